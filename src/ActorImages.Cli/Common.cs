using System.CommandLine;
using ActorImages.Protocols;

namespace ActorImages.Cli;

/// <summary>
/// The options every command shares, recursive from the root (<c>--node</c>, <c>--timeout</c>, <c>--verbose</c>,
/// <c>--progress</c>/<c>--no-progress</c>), and the <see cref="Context"/> a command's action gets from them. One
/// per run, so concurrent runs (tests) share no option objects.
/// </summary>
internal sealed class Common
{
    /// <summary><c>--node HOST</c>: default <c>$ACTORIMAGES_NODE</c>, else 127.0.0.1.</summary>
    public Option<string> Node { get; } = new("--node")
    {
        HelpName = "HOST",
        Recursive = true,
        Description = "Node to talk to (default: $ACTORIMAGES_NODE or 127.0.0.1).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ACTORIMAGES_NODE") is { Length: > 0 } node ? node : "127.0.0.1",
    };

    /// <summary><c>--timeout SECONDS</c>: the longest wait for an answer or the next bytes, default 30.</summary>
    public Option<int> Timeout { get; } = new("--timeout")
    {
        HelpName = "SECONDS",
        Recursive = true,
        Description = "Longest wait for an answer or for the next bytes.",
        DefaultValueFactory = _ => 30,
    };

    /// <summary><c>--verbose</c>: stack traces with errors, a line per file.</summary>
    public Option<bool> Verbose { get; } = new("--verbose") { Recursive = true, Description = "Show stack traces with errors and a line per file." };

    /// <summary><c>--progress</c>: draw progress bars even without a terminal.</summary>
    public Option<bool> Progress { get; } = new("--progress") { Recursive = true, Description = "Draw progress bars on stderr (default: only on a terminal)." };

    /// <summary><c>--no-progress</c>: never draw progress bars.</summary>
    public Option<bool> NoProgress { get; } = new("--no-progress") { Recursive = true, Description = "Never draw progress bars." };

    /// <summary>Adds the shared options to the root command.</summary>
    public void AddTo(Command root)
    {
        root.Add(Node);
        root.Add(Timeout);
        root.Add(Verbose);
        root.Add(Progress);
        root.Add(NoProgress);
    }

    /// <summary>A port option such as <c>--p2-port</c>, with its default.</summary>
    public static Option<int> Port(string name, int defaultPort, string what) => new(name)
    {
        HelpName = "PORT",
        Description = $"The node's {what} port.",
        DefaultValueFactory = _ => defaultPort,
    };

    /// <summary><c>--json</c>.</summary>
    public static Option<bool> Json(string what) => new("--json") { Description = what };

    /// <summary>The context of one command's action.</summary>
    public Context ContextOf(ParseResult parsed, CancellationToken cancel)
    {
        var invocation = parsed.InvocationConfiguration;
        bool progress = !parsed.GetValue(NoProgress) && (parsed.GetValue(Progress) || !Console.IsErrorRedirected && invocation.Error == Console.Error);
        var output = new Output(invocation.Output, invocation.Error, parsed.GetValue(Verbose), progress);
        int seconds = parsed.GetValue(Timeout);
        if (seconds < 1) throw CliFailure.Usage("--timeout must be at least 1 second");
        return new Context(output, parsed.GetValue(Node)!, TimeSpan.FromSeconds(seconds), cancel);
    }
}

/// <summary>What a command's action works with.</summary>
/// <param name="Output">Where it writes.</param>
/// <param name="Host">The node (<c>--node</c>).</param>
/// <param name="Timeout">Longest wait for an answer or the next bytes (<c>--timeout</c>).</param>
/// <param name="Cancel">Ctrl-C or SIGTERM.</param>
internal sealed record Context(Output Output, string Host, TimeSpan Timeout, CancellationToken Cancel)
{
    /// <summary><c>--node</c> with <paramref name="port"/>.</summary>
    public Endpoint At(int port) => new(Host, port);

    /// <summary><paramref name="md5"/> in lowercase if it is 32 hex characters, else a usage error naming it.</summary>
    public static string Md5(string md5) =>
        P4Request.IsMd5(md5) ? md5.ToLowerInvariant() : throw CliFailure.Usage("not an md5 (32 hex characters): " + md5);
}
