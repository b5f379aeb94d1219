using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using ActorImages.Cli.Commands;

namespace ActorImages.Cli;

/// <summary>
/// <c>bin/actorimages</c>: the ActorImages command line. It speaks the legacy wire protocols (docs/protocols.md,
/// P1–P4) and the HTTP API itself, so it needs no node code. Every failure ends as one line on stderr naming what
/// failed and an <see cref="Exit"/> code; <c>--verbose</c> adds the stack trace.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code after Ctrl-C or SIGTERM outside <c>register</c>: 130, as a shell reports SIGINT.</summary>
    public const int Interrupted = 130;

    /// <summary>The process entry point: the process's streams, Ctrl-C and SIGTERM handled.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The <see cref="Exit"/> code.</returns>
    public static Task<int> RunProcessAsync(string[] args) => RunAsync(args, Console.Out, Console.Error, handleSignals: true);

    /// <summary>Runs a command line in this process without exiting: what <see cref="RunProcessAsync"/> does, for tests.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="stdout">Results (tables, JSON, summaries) and <c>--help</c>.</param>
    /// <param name="stderr">Errors, hints and progress bars.</param>
    /// <param name="handleSignals">Whether Ctrl-C and SIGTERM cancel the command (the process's own run).</param>
    /// <param name="cancel">Cancels the command as Ctrl-C would (<c>register</c> then sends END).</param>
    /// <returns>The <see cref="Exit"/> code.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, bool handleSignals = false,
        CancellationToken cancel = default)
    {
        var common = new Common();
        var root = Build(common);
        var parsed = root.Parse(args);
        var errors = parsed.Errors.Select(e => e.Message).Concat(UnknownOptions(parsed)).ToList();
        if (errors.Count > 0 && parsed.Action is not HelpWithExitCodes)
        {
            foreach (var error in errors)
            {
                stderr.WriteLine("actorimages: " + error);
            }
            stderr.WriteLine($"Try '{string.Join(' ', CommandPath(parsed))} --help'.");
            return Exit.Usage;
        }
        var configuration = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
            // register's END may need its retries (2 + 4 + 8 s) after Ctrl-C.
            ProcessTerminationTimeout = handleSignals ? TimeSpan.FromSeconds(16) : null,
        };
        try
        {
            return await parsed.InvokeAsync(configuration, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested || handleSignals)
        {
            stderr.WriteLine("actorimages: interrupted");
            return Interrupted;
        }
        catch (CliFailure failure)
        {
            stderr.WriteLine("actorimages: " + failure.Message);
            if (failure.ExitCode == Exit.Usage)
            {
                stderr.WriteLine($"Try '{string.Join(' ', CommandPath(parsed))} --help'.");
            }
            if (parsed.GetValue(common.Verbose)) stderr.WriteLine(failure);
            return failure.ExitCode;
        }
        catch (Exception bug)
        {
            stderr.WriteLine("actorimages: internal error: " + bug.Message);
            if (parsed.GetValue(common.Verbose)) stderr.WriteLine(bug);
            return Exit.Bug;
        }
    }

    private static RootCommand Build(Common common)
    {
        var root = new RootCommand("Send, fetch and list images on an ActorImages cluster through its wire protocols and HTTP API.");
        common.AddTo(root);
        root.Add(SendCommand.Create(common));
        foreach (var command in P2Commands.Create(common)) root.Add(command);
        foreach (var command in PeerCommands.Create(common)) root.Add(command);
        root.Add(QueryCommands.Create(common));
        root.Add(ImportCommands.Create(common));
        root.SetAction((Func<ParseResult, int>)(_ => throw CliFailure.Usage("missing command: send, upload, list, download, view, register, peers, get, query or import")));
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExitCodes((HelpAction)help.Action!);
        return root;
    }

    /// <summary>
    /// System.CommandLine takes an unknown option for a value when the command has an argument left to fill
    /// (<c>send --bogus x.jpg</c> would look for a file named <c>--bogus</c>): a token that looks like an option
    /// (<c>-x</c>, <c>--xyz</c>) and was read as an argument is a usage error, as in GNU tools; a name that starts
    /// with a dash goes after <c>--</c>.
    /// </summary>
    private static IEnumerable<string> UnknownOptions(ParseResult parsed)
    {
        // Only the command's own arguments: an option's value may start with a dash (--uploader -bob).
        var arguments = parsed.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>()
            .SelectMany(a => a.Tokens).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var token in parsed.Tokens)
        {
            if (token.Type == System.CommandLine.Parsing.TokenType.DoubleDash) yield break;
            if (arguments.Contains(token) && token.Value.Length > 1 && token.Value[0] == '-' && !char.IsDigit(token.Value[1]))
            {
                yield return $"unknown option '{token.Value}' (a name starting with '-' goes after '--')";
            }
        }
    }

    private static IEnumerable<string> CommandPath(ParseResult parsed)
    {
        var names = new Stack<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Push(result.Command is RootCommand ? "actorimages" : result.Command.Name);
        }
        return names;
    }

    /// <summary>The standard help, then the list of exit codes.</summary>
    private sealed class HelpWithExitCodes(HelpAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            inner.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(Exit.Help);
            return Exit.Ok;
        }
    }
}
