package io.actorimages.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code get MD5 [-o DIR]}: P4 {@code GET <md5>} (PROTOCOLS.md P4) from the first holder {@code LST} lists, as
 * the seed-002 client does, or from {@code --from host:port}. Only bytes whose MD5 is the one asked for are kept
 * (PROTOCOLS.md P4: any other reply is a miss): an empty reply or a peer's {@code ERR …} text is
 * {@link Exit#NODE_ERROR}, other bytes {@link Exit#INTEGRITY}. Saved under the name {@code LST} gives, else as
 * {@code <md5>.<format>}.
 */
@Command(name = "get", mixinStandardHelpOptions = true,
    description = {"P4: download an image by md5 from the first holder the tracker lists.",
        "Or from --from HOST:PORT. Only bytes whose MD5 is the one asked for are kept."})
final class GetCommand implements Callable<Integer> {

  @Mixin
  private NodeOption node;

  @Mixin
  private P3Options p3;

  @Parameters(paramLabel = "MD5", description = "The image's md5, as `peers` shows it.")
  private String md5;

  @Mixin
  private SaveOptions save;

  @Option(names = "--from", paramLabel = "HOST:PORT", description = "Ask this P4 endpoint instead of the tracker.")
  private String from;

  /** Fetches, checks and saves; prints {@code saved PATH (N bytes, md5 ok) from HOLDER}. */
  @Override
  public Integer call() {
    Output output = node.output();
    String wanted = node.md5(md5);
    Endpoint holder;
    String name = null;
    if (from != null) {
      try {
        holder = Endpoint.parse(from);
      } catch (IllegalArgumentException e) {
        throw node.usage("--from: " + e.getMessage());
      }
    } else {
      P3Client.Listed listed = new P3Client(node.at(p3.port), null).listAll().stream()
          .filter(i -> i.md5().equalsIgnoreCase(wanted)).findFirst()
          .orElseThrow(() -> CliFailure.node(node.at(p3.port) + " LST: no holder of " + wanted));
      if (listed.holders().isEmpty()) throw CliFailure.node(node.at(p3.port) + " LST: no holder of " + wanted);
      try {
        holder = Endpoint.parse(listed.holders().get(0));
      } catch (IllegalArgumentException e) {
        throw CliFailure.node(node.at(p3.port) + " LST: malformed holder of " + wanted + ": " + e.getMessage());
      }
      name = listed.name();
      save.checkFree(name);
    }
    P4Client.Received received;
    try (Destination destination = save.open();
         Progress bar = Progress.bytes(output, "get", -1)) {
      received = new P4Client(node.timeout()).get(holder, wanted, destination.stream(), bar::to);
      check(received, holder, wanted);
      String saveAs = name != null ? name
          : wanted + "." + ImageFiles.extension(received.head()).orElse("bin");
      Path saved = destination.commit(saveAs);
      output.out().println("saved " + saved + " (" + received.size() + " bytes, md5 ok) from " + holder);
    }
    return Exit.OK;
  }

  private static void check(P4Client.Received received, Endpoint holder, String wanted) {
    if (received.size() == 0) {
      throw CliFailure.node(holder + " GET " + wanted + ": closed without data (the holder does not have it)");
    }
    if (received.md5().equals(wanted)) return;
    String error = received.errorText();
    if (error != null) throw CliFailure.node(holder + " GET " + wanted + ": " + error);
    throw CliFailure.integrity("md5 mismatch: " + holder + " sent " + received.size() + " bytes with md5 "
        + received.md5() + ", expected " + wanted + " (nothing saved)");
  }
}
