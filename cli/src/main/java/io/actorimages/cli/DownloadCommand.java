package io.actorimages.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code download NAME [-o DIR]}: P2 {@code DOWNLOAD} (PROTOCOLS.md P2), saved under the name the node announces
 * in {@code SIZE_INFO}, as the legacy client does; an existing file is kept unless {@code --force}.
 */
@Command(name = "download", mixinStandardHelpOptions = true,
    description = "P2: download a file of the WebSocket repository by name (the oldest one of that name).")
final class DownloadCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private P2Options p2;

  @Parameters(paramLabel = "NAME", description = "The file name, as `list` shows it.")
  private String name;

  @Mixin
  private SaveOptions save;

  /** Downloads and prints {@code saved PATH (N bytes)}. */
  @Override
  public Integer call() {
    Output output = node.output();
    save.checkFree(name);
    try (P2Client client = p2.connect(node)) {
      Path saved = receive(client, output, "DOWNLOAD", name, save.open());
      output.out().println("saved " + saved + " (" + ImageFiles.size(saved) + " bytes)");
    }
    return Exit.OK;
  }

  /**
   * Runs {@code DOWNLOAD} or {@code VIEW} of {@code name} into {@code destination} (closed on return), with a
   * progress bar over bytes for a large file, and returns where the file was saved.
   *
   * @throws CliFailure as {@link P2Client#fetch} and {@link Destination#commit}
   */
  static Path receive(P2Client client, Output output, String mode, String name, Destination destination) {
    Progress[] bar = {Progress.none()};
    try (destination) {
      P2Client.Fetched fetched = client.fetch(mode, name, destination.stream(),
          size -> bar[0] = Progress.bytes(output, mode.toLowerCase(java.util.Locale.ROOT), size),
          received -> bar[0].to(received));
      return destination.commit(fetched.filename());
    } finally {
      bar[0].close();
    }
  }
}
