package io.actorimages.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code list}: P2 {@code LIST} (PROTOCOLS.md P2), every file with its uploader in upload order. */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = "P2: list the files of the WebSocket repository (filename, uploader), in upload order.")
final class ListCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private P2Options p2;

  @Option(names = "--json", description = "Print a JSON array of {filename, uploader}.")
  private boolean json;

  /** Prints the list as a table, or as JSON with {@code --json}. */
  @Override
  public Integer call() {
    Output output = node.output();
    List<P2Client.Listed> files;
    try (P2Client client = p2.connect(node)) {
      files = client.list();
    }
    if (json) {
      output.json(files);
      return Exit.OK;
    }
    Table table = new Table("FILENAME", "UPLOADER");
    files.forEach(f -> table.add(f.filename(), f.uploader()));
    table.print(output.out());
    return Exit.OK;
  }
}
