package io.actorimages.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code bin/actorimages}: the ActorImages command line. It speaks the legacy wire protocols (PROTOCOLS.md P1–P4)
 * and the HTTP API itself, so it needs no node code. Every failure ends as one line on stderr naming what failed
 * and an {@link Exit} code; {@code --verbose} adds the stack trace.
 */
@Command(name = "actorimages", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Send, fetch and list images on an ActorImages cluster through its wire protocols and HTTP API.",
    subcommands = {SendCommand.class, UploadCommand.class, ListCommand.class, DownloadCommand.class,
        ViewCommand.class, RegisterCommand.class, PeersCommand.class, GetCommand.class, QueryCommand.class})
public final class Main implements Callable<Integer> {

  @Spec
  private CommandSpec spec;

  @Option(names = "--verbose", scope = ScopeType.INHERIT,
      description = "Show stack traces with errors and a line per file.")
  private boolean verbose;

  @Option(names = "--progress", negatable = true, scope = ScopeType.INHERIT,
      description = "Draw progress bars on stderr (default: only when a terminal is attached).")
  private Boolean progress;

  private final PrintStream out;
  private final PrintStream err;

  private Main(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** Runs the command line {@code args} with the process's streams and exits with its {@link Exit} code. */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs the command line {@code args} in this JVM, without exiting: what {@link #main} does, for tests and
   * embedding.
   *
   * @param out results (tables, JSON, summaries) and {@code --help}
   * @param err errors, hints and progress bars
   * @return the {@link Exit} code
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    Main main = new Main(out, err);
    CommandLine cli = new CommandLine(main);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    addFooter(cli);
    cli.setParameterExceptionHandler((e, arguments) -> {
      err.println("actorimages: " + e.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
      err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
      return Exit.USAGE;
    });
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      int code = e instanceof CliFailure failure ? failure.exitCode() : Exit.BUG;
      err.println("actorimages: " + (code == Exit.BUG ? "internal error: " + e : e.getMessage()));
      if (main.verbose) e.printStackTrace(err);
      return code;
    });
    return cli.execute(args);
  }

  private static void addFooter(CommandLine cli) {
    cli.getCommandSpec().usageMessage().footer(Exit.HELP);
    cli.getSubcommands().values().forEach(Main::addFooter);
  }

  /** Without a subcommand: a usage error. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing command: send, upload, list, download, view, "
        + "register, peers, get or query");
  }

  /** The streams and flags of this run, for the subcommands. */
  Output output() {
    return new Output(out, err, verbose, progress != null ? progress : System.console() != null);
  }

  /** {@code --version}: the jar's Implementation-Version. */
  static final class Version implements CommandLine.IVersionProvider {
    /** One line: {@code actorimages <version>}. */
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"actorimages " + (version != null ? version : "(development build)")};
    }
  }
}
