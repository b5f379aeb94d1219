package io.actorimages.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code peers}: P3 {@code LST} (PROTOCOLS.md P3), every image the tracker knows with its holders, newest first.
 * One reply holds at most 4,096 bytes; {@code --all} walks the rest with {@code LST <offset>}.
 */
@Command(name = "peers", mixinStandardHelpOptions = true,
    description = "P3: list the images the tracker knows (md5, name, holders), newest first.")
final class PeersCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private P3Options p3;

  @Option(names = "--all", description = "Every page (LST <offset>), not only the first 4,096-byte reply.")
  private boolean all;

  @Option(names = "--json", description = "Print a JSON array of {md5, name, holders}.")
  private boolean json;

  /** Prints the listing as a table, or as JSON with {@code --json}. */
  @Override
  public Integer call() {
    Output output = node.output();
    P3Client tracker = new P3Client(node.at(p3.port), null);
    List<P3Client.Listed> images = all ? tracker.listAll() : tracker.list(0);
    if (json) {
      output.json(images);
      return Exit.OK;
    }
    Table table = new Table("MD5", "NAME", "HOLDERS");
    images.forEach(i -> table.add(i.md5(), i.name(), String.join(" ", i.holders())));
    table.print(output.out());
    if (images.isEmpty()) output.err().println("no images");
    return Exit.OK;
  }
}
