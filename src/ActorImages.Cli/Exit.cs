namespace ActorImages.Cli;

/// <summary>
/// The exit codes of <c>bin/actorimages</c>, the contract scripts rely on; printed at the end of every
/// <c>--help</c> (<see cref="Help"/>).
/// </summary>
public static class Exit
{
    /// <summary>Everything asked for was done.</summary>
    public const int Ok = 0;

    /// <summary>The node or peer answered with an error: a P2 <c>ERROR</c>, a P3 <c>ERR …</c>, an HTTP 404.</summary>
    public const int NodeError = 1;

    /// <summary>The command line was wrong: unknown option, missing argument, malformed md5 or host:port.</summary>
    public const int Usage = 2;

    /// <summary>No usable connection: refused, timed out, unknown host, lost mid-transfer, port in use.</summary>
    public const int Connection = 3;

    /// <summary>A local file problem: missing, unreadable, empty, not an image, folder missing, file exists.</summary>
    public const int LocalFile = 4;

    /// <summary>Bytes that are not what was promised: an MD5 mismatch, a size other than announced.</summary>
    public const int Integrity = 5;

    /// <summary>A bug in the CLI itself (<c>--verbose</c> shows the stack trace).</summary>
    public const int Bug = 70;

    /// <summary>The footer of every <c>--help</c>: one line per code.</summary>
    public const string Help = """

        Exit codes:
          0   ok
          1   the node answered with an error (e.g. "Arquivo nao encontrado.", HTTP 404)
          2   usage error
          3   connection problem (refused, timeout, connection lost)
          4   local file problem (missing, unreadable, not an image, exists)
          5   integrity failure (MD5 mismatch, size other than announced)
          70  a bug in the CLI (--verbose shows the stack trace)
        """;
}

/// <summary>
/// A failure the CLI reports as one line on stderr with its <see cref="Exit"/> code, never as a stack trace
/// (unless <c>--verbose</c>). The message names what failed, e.g. <c>connection refused: 127.0.0.2:8765</c>.
/// </summary>
internal sealed class CliFailure : Exception
{
    private CliFailure(int exitCode, string message, Exception? cause) : base(message, cause) => ExitCode = exitCode;

    /// <summary>The <see cref="Exit"/> code the command ends with.</summary>
    public int ExitCode { get; }

    /// <summary>The node or a peer answered with an error (<see cref="Exit.NodeError"/>).</summary>
    public static CliFailure Node(string message) => new(Exit.NodeError, message, null);

    /// <summary>A usage error found after parsing, e.g. a malformed md5 (<see cref="Exit.Usage"/>).</summary>
    public static CliFailure Usage(string message) => new(Exit.Usage, message, null);

    /// <summary>No usable connection (<see cref="Exit.Connection"/>).</summary>
    public static CliFailure Connection(string message, Exception? cause = null) => new(Exit.Connection, message, cause);

    /// <summary>A local file problem (<see cref="Exit.LocalFile"/>).</summary>
    public static CliFailure LocalFile(string message, Exception? cause = null) => new(Exit.LocalFile, message, cause);

    /// <summary>Received bytes that are not what was promised (<see cref="Exit.Integrity"/>).</summary>
    public static CliFailure Integrity(string message) => new(Exit.Integrity, message, null);
}
