package io.actorimages.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code send FILE|DIR...}: P1 ingest (PROTOCOLS.md P1) of image files, folders recursively, one connection per
 * file as the camera client does; each file counts as sent once the node closed its connection (committed).
 * Prints {@code sent N images (X MB) to host:port}. P1 has no reply, so with {@code --verify} it then asks the
 * HTTP API whether each image is in the catalog ({@link Exit#NODE_ERROR} naming those that are not).
 */
@Command(name = "send", mixinStandardHelpOptions = true,
    description = {"P1: send images over TCP, one connection per file, as a camera client does.",
        "Folders are searched recursively for JPEG, PNG, GIF, BMP, WebP and TIFF files; a file named directly "
            + "must be one of them, since a node drops anything else without a word (P1 has no reply)."})
final class SendCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Option(names = "--p1-port", paramLabel = "PORT", defaultValue = "5001",
      description = "The node's P1 ingest port (default: ${DEFAULT-VALUE}).")
  private int port;

  @Option(names = "--verify", description = "Afterwards, ask the HTTP API whether the node stored each image "
      + "(P1 has no reply: a node closes after storing an image and after discarding a damaged one alike).")
  private boolean verify;

  @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "8080",
      description = "The node's HTTP API port, for --verify (default: ${DEFAULT-VALUE}).")
  private int httpPort;

  @Parameters(arity = "1..*", paramLabel = "FILE|DIR", description = "Image files or folders.")
  private List<Path> paths;

  /** Sends every image; stops at the first failure, saying how many were sent before it. */
  @Override
  public Integer call() {
    Output output = node.output();
    List<Path> files = ImageFiles.collect(paths, true);
    if (files.isEmpty()) throw CliFailure.localFile("no images in: " + paths, null);
    Endpoint endpoint = node.at(port);
    P1Client client = new P1Client(endpoint, node.timeout());
    int sent = 0;
    long bytes = 0;
    try (Progress overFiles = Progress.files(output, "send", files.size())) {
      for (Path file : files) {
        long size = ImageFiles.size(file);
        overFiles.message(file.getFileName().toString());
        try (Progress overBytes = files.size() == 1 ? Progress.bytes(output, "send", size) : Progress.none()) {
          client.send(file, overBytes::to);
        }
        overFiles.step();
        output.detail("sent " + file + " (" + size + " bytes)");
        sent++;
        bytes += size;
      }
    } catch (CliFailure e) {
      if (sent > 0) output.err().println("sent " + sent + " of " + files.size() + " images before the failure");
      throw e;
    }
    output.out().println("sent " + Output.count(sent, "image") + " (" + Output.megabytes(bytes) + ") to "
        + endpoint);
    return verify ? verify(files, output) : Exit.OK;
  }

  /** Asks {@code GET /api/images/{md5}} for each file; names those the node does not list. */
  private int verify(List<Path> files, Output output) {
    HttpQuery http = new HttpQuery(node.at(httpPort), node.timeout());
    int missing = 0;
    for (Path file : files) {
      String md5 = ImageFiles.md5(file);
      try {
        http.get("/api/images/" + md5);
      } catch (CliFailure e) {
        if (e.exitCode() != Exit.NODE_ERROR) throw e;
        output.err().println("actorimages: not stored by the node: " + file + " (md5 " + md5 + "; its log says why)");
        missing++;
      }
    }
    if (missing == 0) output.out().println("verified: the node lists all " + Output.count(files.size(), "image"));
    return missing == 0 ? Exit.OK : Exit.NODE_ERROR;
  }
}
