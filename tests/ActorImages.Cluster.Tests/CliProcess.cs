using ActorImages.Testing;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// <c>bin/actorimages</c> (src/ActorImages.Cli) as a separate process, as scripts run it: the build of the test
/// project's reference to the CLI (same configuration as the tests), started with <c>dotnet actorimages.dll</c>, its
/// stdin closed, stdout and stderr captured apart, and killed if it outlives its time (<see cref="ChildProcess"/>). It
/// starts with SIGINT at its default disposition (through <c>env --default-signal=INT</c>), as a terminal's shell
/// starts a command: a test run launched as a background job ignores SIGINT, a child inherits that, and .NET (like
/// Python) leaves an ignored SIGINT ignored, so Ctrl-C would not reach <c>register</c> (seen in a CI run started with
/// <c>nohup … &amp;</c>).
/// </summary>
public static class CliProcess
{
    /// <summary>The CLI's <c>actorimages.dll</c>.</summary>
    /// <exception cref="FileNotFoundException">It was not built.</exception>
    public static string Dll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent?.Name ?? "Debug";
            var dll = Path.Combine(RepoPaths.Root, "src", "ActorImages.Cli", "bin", configuration, "net10.0", "actorimages.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"the CLI is not built: {dll}");
        }
    }

    /// <summary>One run of the CLI.</summary>
    /// <param name="Code">Its exit code.</param>
    /// <param name="Out">What it wrote on stdout.</param>
    /// <param name="Err">What it wrote on stderr.</param>
    public sealed record Result(int Code, string Out, string Err)
    {
        /// <inheritdoc />
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}--- stderr\n{Err}";
    }

    /// <summary>Runs the CLI to its end.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>How it ended.</returns>
    /// <exception cref="TimeoutException">Still running after 90 s; killed.</exception>
    public static async Task<Result> RunAsync(params string[] args)
    {
        using var running = Start(args);
        return await running.WaitAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>Starts the CLI (e.g. <c>register</c>, which runs until a signal).</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The running CLI.</returns>
    public static Running Start(params string[] args) => new(args);

    /// <summary>A running CLI.</summary>
    public sealed class Running : IDisposable
    {
        private readonly ChildProcess.Running _process;

        internal Running(string[] args)
        {
            _process = new ChildProcess.Running(["env", "--default-signal=INT", "dotnet", Dll, .. args], null,
                new Dictionary<string, string?>
                {
                    ["ACTORIMAGES_NODE"] = null,
                    ["USER"] = "cli-test",
                    ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                },
                closeStdin: true);
        }

        /// <summary>Its process id.</summary>
        public int Pid => _process.Pid;

        /// <summary>What it wrote on stdout so far.</summary>
        public string Out => _process.Out;

        /// <summary>What it wrote on stderr so far.</summary>
        public string Err => _process.Err;

        /// <summary>Sends a signal, as a shell's Ctrl-C (<c>INT</c>) or <c>kill</c> (<c>TERM</c>) does.</summary>
        /// <param name="signal">The signal's name.</param>
        /// <returns>A task that completes when it was sent.</returns>
        public Task SignalAsync(string signal) => _process.SignalAsync(signal);

        /// <summary>Waits until stdout holds a line that passes <paramref name="condition"/>.</summary>
        /// <param name="within">How long to wait.</param>
        /// <param name="condition">The test of a line.</param>
        /// <returns>The line.</returns>
        /// <exception cref="TimeoutException">None in time, or the CLI ended first.</exception>
        public Task<string> AwaitLineAsync(TimeSpan within, Func<string, bool> condition) =>
            _process.AwaitLineAsync(within, "on stdout", condition, stdoutOnly: true);

        /// <summary>Waits for the exit.</summary>
        /// <param name="within">How long; after it the CLI is killed and the call throws.</param>
        /// <returns>How it ended.</returns>
        /// <exception cref="TimeoutException">Still running.</exception>
        public async Task<Result> WaitAsync(TimeSpan within)
        {
            var finished = await _process.FinishAsync(within);
            return new Result(finished.Exit, Out, Err);
        }

        /// <summary>Kills the CLI if it still runs.</summary>
        public void Dispose() => _process.Dispose();
    }
}
