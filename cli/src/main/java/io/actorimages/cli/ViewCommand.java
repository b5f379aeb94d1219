package io.actorimages.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code view NAME}: P2 {@code VIEW} (PROTOCOLS.md P2) into a new temp folder, then opens the file with
 * {@code xdg-open} when it is on the PATH (without waiting for the viewer), else just prints the path.
 */
@Command(name = "view", mixinStandardHelpOptions = true,
    description = "P2: fetch a file by name into a temp folder and open it with xdg-open (prints the path).")
final class ViewCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private P2Options p2;

  @Parameters(paramLabel = "NAME", description = "The file name, as `list` shows it.")
  private String name;

  @Option(names = "--no-open", description = "Only save it and print the path.")
  private boolean noOpen;

  /** Fetches, prints {@code saved PATH}, and opens it. */
  @Override
  public Integer call() {
    Output output = node.output();
    Path saved;
    try (P2Client client = p2.connect(node)) {
      Path folder = tempFolder();
      try {
        saved = DownloadCommand.receive(client, output, "VIEW", name, Destination.in(folder, false));
      } catch (RuntimeException e) {
        folder.toFile().delete(); // empty: the received bytes were never committed
        throw e;
      }
    }
    output.out().println("saved " + saved);
    if (!noOpen) open(saved, output);
    return Exit.OK;
  }

  private static Path tempFolder() {
    try {
      return Files.createTempDirectory("actorimages-view-");
    } catch (IOException e) {
      throw CliFailure.localFile("cannot create a temp folder (" + e.getMessage() + ")", e);
    }
  }

  private static void open(Path file, Output output) {
    String viewer = onPath("xdg-open");
    if (viewer == null) return;
    try {
      new ProcessBuilder(viewer, file.toString()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      output.detail("opened with " + viewer);
    } catch (IOException e) {
      output.err().println("actorimages: cannot run " + viewer + " (" + e.getMessage() + "); the file is at " + file);
    }
  }

  private static String onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) return null;
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, program);
      if (Files.isExecutable(candidate)) return candidate.toString();
    }
    return null;
  }
}
