package io.nightshift.featurestore;

import io.delta.storage.HDFSLogStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Delta's log store for tables on a local or mounted file system ({@code file:} paths), set as
 * {@code spark.delta.logStore.file.impl} by Nightshift's sessions. Other schemes are left to Delta's default
 * ({@link HDFSLogStore}), which this class also reads with.
 *
 * <p>Delta relies on the log store to create a commit file only if no other writer created it first. Delta's default
 * store for {@code file:} checks that the file is absent and then renames its temporary file over the name; the
 * rename replaces whatever another process wrote in between, so two jobs committing the same version of a table at
 * once (say, two score jobs of an Airflow backfill writing one predictions table) could both succeed and one commit
 * be lost. Here the temporary file is hard-linked to the commit's name, which the operating system refuses if the name
 * exists: exactly one writer wins, the others get {@link FileAlreadyExistsException} and Delta retries them on the
 * next version. Where the file system has no hard links, the write falls back to a checked move, the default's
 * behaviour.
 *
 * <p>The commit file's contents reach the disk before it gets its name, so a crash never leaves a named but empty
 * commit. The default store also starts a process for every Hadoop permission change and symlink check (Hadoop's
 * local file system has no native code here): about ten per commit file, none here.
 */
public final class LocalFileLogStore extends HDFSLogStore {
  public LocalFileLogStore(Configuration hadoopConf) {
    super(hadoopConf);
  }

  @Override
  public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration hadoopConf)
      throws IOException {
    FileSystem fs = path.getFileSystem(hadoopConf);
    if (!LocalFiles.isLocal(fs)) {
      super.write(path, actions, overwrite, hadoopConf);
      return;
    }
    java.nio.file.Path target = Paths.get(fs.makeQualified(path).toUri());
    java.nio.file.Path temp = Paths.get(fs.makeQualified(createTempPath(path)).toUri());
    Files.createDirectories(target.getParent());
    try {
      try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        while (actions.hasNext()) {
          ByteBuffer line = ByteBuffer.wrap((actions.next() + "\n").getBytes(StandardCharsets.UTF_8));
          while (line.hasRemaining()) {
            out.write(line);
          }
        }
        out.force(true);
      }
      if (Boolean.TRUE.equals(overwrite)) {
        LocalFiles.replace(temp, target);
      } else {
        LocalFiles.createExclusively(target, temp);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
