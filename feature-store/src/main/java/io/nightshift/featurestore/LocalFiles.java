package io.nightshift.featurestore;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.hadoop.fs.FileSystem;

/** How Nightshift's Delta log writers publish a finished temporary file under its final name on a local disk. */
final class LocalFiles {
  private LocalFiles() {}

  /** Whether {@code fs} is the local (or a locally mounted) file system, {@code file:}. */
  static boolean isLocal(FileSystem fs) {
    return "file".equals(fs.getUri().getScheme());
  }

  /**
   * Gives {@code temp}'s file the name {@code target} unless that name exists: a hard link, which the operating
   * system refuses atomically when the name exists, then the temporary name removed. On a file system without hard
   * links, a move that checks first (not atomic, as Delta's default store does).
   *
   * @throws FileAlreadyExistsException if {@code target} exists; {@code temp} is left to the caller
   */
  static void createExclusively(Path target, Path temp) throws IOException {
    try {
      Files.createLink(target, temp);
    } catch (FileAlreadyExistsException e) {
      throw new FileAlreadyExistsException(target.toString());
    } catch (UnsupportedOperationException | FileSystemException e) { // a file system without hard links
      Files.move(temp, target);
      return;
    }
    Files.delete(temp);
    dropStaleChecksum(target);
  }

  /** Gives {@code temp}'s file the name {@code target} atomically, replacing a file of that name. */
  static void replace(Path temp, Path target) throws IOException {
    dropStaleChecksum(target); // first: a reader never meets the new file with the old checksum
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Hadoop's local file system checks a file against a {@code .NAME.crc} beside it when one exists; one left there by
   * an earlier file of this name would fail every read of the new one.
   */
  private static void dropStaleChecksum(Path target) throws IOException {
    Files.deleteIfExists(target.resolveSibling("." + target.getFileName() + ".crc"));
  }
}
