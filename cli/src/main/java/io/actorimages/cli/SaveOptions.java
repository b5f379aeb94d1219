package io.actorimages.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where {@code download} and {@code get} save a file ({@code -o DIR}, {@code --force}): a mixin. */
final class SaveOptions {

  @Option(names = {"-o", "--output"}, paramLabel = "DIR", defaultValue = ".",
      description = "Folder to save into (default: the current folder).")
  Path folder;

  @Option(names = "--force", description = "Replace a file of the same name in DIR.")
  boolean force;

  /** Fails before any transfer if the folder is missing or {@code name} is taken ({@link Destination#checkFree}). */
  void checkFree(String name) {
    Destination.checkFree(folder, name, force);
  }

  /** A temp file in the folder for the bytes to come ({@link Destination#in}). */
  Destination open() {
    return Destination.in(folder, force);
  }
}
