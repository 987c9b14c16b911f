package io.nightshift.featurestore;

import java.io.IOException;
import java.nio.file.Paths;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathFilter;
import org.apache.spark.sql.execution.streaming.CheckpointFileManager;

/**
 * The file manager Delta writes each version's checksum file ({@code _delta_log/N.crc}) through, set as
 * {@code spark.sql.streaming.checkpointFileManagerClass} by Nightshift's sessions. On {@code file:} paths a file
 * is written under a temporary name and published as {@link LocalFileLogStore} publishes commits (a hard link, or an
 * atomic move when replacing), without the process Hadoop's local file system starts for every permission change and
 * symlink check; any other path, and everything but writing, goes to the manager Spark would have chosen.
 */
public final class LocalCheckpointFileManager
    implements CheckpointFileManager, CheckpointFileManager.RenameHelperMethods {
  static final String KEY = "spark.sql.streaming.checkpointFileManagerClass";

  private final CheckpointFileManager spark;
  private final FileSystem rawLocal; // null for other file systems

  public LocalCheckpointFileManager(Path path, Configuration hadoopConf) throws IOException {
    Configuration withoutThis = new Configuration(hadoopConf);
    withoutThis.unset(KEY);
    this.spark = CheckpointFileManager.create(path, withoutThis);
    FileSystem fs = path.getFileSystem(hadoopConf);
    this.rawLocal = LocalFiles.isLocal(fs) ? FileSystem.getLocal(hadoopConf).getRaw() : null;
  }

  @Override
  public CancellableFSDataOutputStream createAtomic(Path path, boolean overwriteIfPossible) {
    if (rawLocal == null) {
      return spark.createAtomic(path, overwriteIfPossible);
    }
    return new RenameBasedFSDataOutputStream(this, path, overwriteIfPossible);
  }

  @Override
  public FSDataOutputStream createTempFile(Path path) {
    try {
      return rawLocal.create(path, true); // no permission given, no checksum file: nothing to start a process for
    } catch (IOException e) {
      throw undeclared(e);
    }
  }

  @Override
  public void renameTempFile(Path srcPath, Path dstPath, boolean overwriteIfPossible) {
    java.nio.file.Path temp = Paths.get(rawLocal.makeQualified(srcPath).toUri());
    java.nio.file.Path target = Paths.get(rawLocal.makeQualified(dstPath).toUri());
    try {
      if (overwriteIfPossible) {
        LocalFiles.replace(temp, target);
      } else {
        LocalFiles.createExclusively(target, temp);
      }
    } catch (java.nio.file.FileAlreadyExistsException e) { // as Spark's own managers throw it
      try {
        java.nio.file.Files.deleteIfExists(temp); // Spark's stream is closed by now and will not delete it
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw undeclared(new FileAlreadyExistsException(e.getMessage()));
    } catch (IOException e) {
      throw undeclared(e);
    }
  }

  /**
   * Throws {@code e} from a method that cannot declare it: Spark's trait declares no exceptions (Scala has no checked
   * ones), and its callers catch Hadoop's IOExceptions as Hadoop's own file managers throw them.
   */
  @SuppressWarnings("unchecked")
  private static <E extends Throwable> RuntimeException undeclared(Throwable e) throws E {
    throw (E) e;
  }

  @Override
  public FSDataInputStream open(Path path) {
    return spark.open(path);
  }

  @Override
  public FileStatus[] list(Path path, PathFilter filter) {
    return spark.list(path, filter);
  }

  @Override
  public void mkdirs(Path path) {
    spark.mkdirs(path);
  }

  @Override
  public boolean exists(Path path) {
    return spark.exists(path);
  }

  @Override
  public void delete(Path path) {
    spark.delete(path);
  }

  @Override
  public boolean isLocal() {
    return spark.isLocal();
  }

  @Override
  public Path createCheckpointDirectory() {
    return spark.createCheckpointDirectory();
  }
}
