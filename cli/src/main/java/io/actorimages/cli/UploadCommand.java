package io.actorimages.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code upload FILE...}: P2 {@code UPLOAD} (PROTOCOLS.md P2) of each file on one connection, under its own file
 * name. A file the node refuses is reported and the rest still go; the exit code is then {@link Exit#NODE_ERROR}.
 */
@Command(name = "upload", mixinStandardHelpOptions = true,
    description = "P2: upload files to the node's WebSocket repository under their own names (folders: their images).")
final class UploadCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private P2Options p2;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "Files (or folders of images) to upload.")
  private List<Path> paths;

  /** Uploads every file and prints the node's answer to each. */
  @Override
  public Integer call() {
    Output output = node.output();
    List<Path> files = ImageFiles.collect(paths, false);
    if (files.isEmpty()) throw CliFailure.localFile("no images in: " + paths, null);
    int refused = 0;
    long bytes = 0;
    try (P2Client client = p2.connect(node);
         Progress overFiles = Progress.files(output, "upload", files.size())) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        long size = ImageFiles.size(file);
        overFiles.message(name);
        try (Progress overBytes = files.size() == 1 ? Progress.bytes(output, "upload", size) : Progress.none()) {
          output.out().println(client.upload(file, name, overBytes::to));
          bytes += size;
        } catch (CliFailure e) {
          if (e.exitCode() != Exit.NODE_ERROR) throw e;
          output.err().println("actorimages: " + e.getMessage());
          refused++;
        }
        overFiles.step();
      }
    }
    if (files.size() > 1) {
      output.out().println("uploaded " + (files.size() - refused) + " of " + Output.count(files.size(), "file")
          + " (" + Output.megabytes(bytes) + ")");
    }
    return refused == 0 ? Exit.OK : Exit.NODE_ERROR;
  }
}
