package io.actorimages.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A file being received into a folder: bytes go to a hidden temp file in that folder and become visible under
 * their final name only on {@link #commit}, so an interrupted or rejected transfer leaves nothing behind. An
 * existing file is never replaced unless {@code --force}. Blocking file I/O.
 */
final class Destination implements AutoCloseable {
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  private final Path folder;
  private final boolean replace;
  private final Path temp;
  private final OutputStream stream;
  private boolean committed;

  private Destination(Path folder, boolean replace, Path temp, OutputStream stream) {
    this.folder = folder;
    this.replace = replace;
    this.temp = temp;
    this.stream = stream;
  }

  /**
   * Opens a temp file in {@code folder}.
   *
   * @param replace whether {@link #commit} may replace an existing file ({@code --force})
   * @throws CliFailure ({@link Exit#LOCAL_FILE}) if the folder is missing or not writable
   */
  static Destination in(Path folder, boolean replace) {
    if (!Files.isDirectory(folder)) throw CliFailure.localFile("no such folder: " + folder, null);
    try {
      // Not createTempFile: its 0600 mode would stay on the saved file; this one gets the umask's.
      Path temp = Files.createFile(folder.resolve(".actorimages-" + Long.toHexString(RANDOM.nextLong()) + ".part"));
      return new Destination(folder, replace, temp, Files.newOutputStream(temp));
    } catch (IOException e) {
      throw CliFailure.localFile("cannot write in: " + folder + " (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Fails early, before any transfer, if {@code folder} is missing or {@code name} is taken in it and
   * {@code replace} is false.
   *
   * @throws CliFailure ({@link Exit#LOCAL_FILE}) naming the missing folder or the existing file
   */
  static void checkFree(Path folder, String name, boolean replace) {
    if (!Files.isDirectory(folder)) throw CliFailure.localFile("no such folder: " + folder, null);
    Path target = folder.resolve(safeName(name));
    if (!replace && Files.exists(target)) {
      throw CliFailure.localFile("file exists: " + target + " (--force replaces it)", null);
    }
  }

  /** Where the received bytes go. */
  OutputStream stream() {
    return stream;
  }

  /**
   * Closes the stream and moves the bytes to {@code folder/name} ({@code name} reduced to its last path element).
   *
   * @return the final path
   * @throws CliFailure ({@link Exit#LOCAL_FILE}) if the file exists and replacing is off, or the move fails
   */
  Path commit(String name) {
    Path target = folder.resolve(safeName(name));
    try {
      stream.close();
      if (replace) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } else {
        // createFile claims the name atomically, so a file appearing meanwhile is not overwritten either.
        Files.createFile(target);
        try {
          Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
          Files.deleteIfExists(target);
          throw e;
        }
      }
      committed = true;
      return target;
    } catch (FileAlreadyExistsException e) {
      throw CliFailure.localFile("file exists: " + target + " (--force replaces it)", e);
    } catch (IOException e) {
      throw CliFailure.localFile("cannot write: " + target + " (" + e.getMessage() + ")", e);
    }
  }

  /**
   * A name safe to create in a folder: the last element of {@code name} as a path (a node's or peer's name must
   * not lead outside the folder), or {@code download} when nothing usable is left.
   */
  static String safeName(String name) {
    String last = name.replace('\\', '/');
    last = last.substring(last.lastIndexOf('/') + 1).strip();
    return last.isEmpty() || last.equals(".") || last.equals("..") ? "download" : last;
  }

  /** Deletes the temp file unless committed. */
  @Override
  public void close() {
    try {
      stream.close();
    } catch (IOException e) {
      // closing is best effort; the delete below is what matters
    }
    if (!committed) {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException e) {
        // a stray hidden .part file is the worst outcome
      }
    }
  }
}
