using System.Diagnostics;
using System.Text;
using ActorImages.Testing;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// <c>bin/actorimages</c> (src/ActorImages.Cli) as a separate process, as scripts run it: the build of the test
/// project's reference to the CLI (same configuration as the tests), started with <c>dotnet actorimages.dll</c>, its
/// stdin closed, stdout and stderr captured apart, and killed if it outlives its time. It starts with SIGINT at its
/// default disposition (through <c>env --default-signal=INT</c>), as a terminal's shell starts a command: a test run
/// launched as a background job ignores SIGINT, a child inherits that, and .NET (like Python) leaves an ignored
/// SIGINT ignored, so Ctrl-C would not reach <c>register</c> (seen in a CI run started with <c>nohup … &amp;</c>).
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
        private readonly Process _process;
        private readonly StringBuilder _out = new();
        private readonly StringBuilder _err = new();
        private readonly TaskCompletionSource _outDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _errDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string _command;

        internal Running(string[] args)
        {
            _command = "actorimages " + string.Join(' ', args);
            var info = new ProcessStartInfo("env")
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false, StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
            };
            info.ArgumentList.Add("--default-signal=INT");
            info.ArgumentList.Add("dotnet");
            info.ArgumentList.Add(Dll);
            foreach (var arg in args) info.ArgumentList.Add(arg);
            info.Environment.Remove("ACTORIMAGES_NODE");
            info.Environment["USER"] = "cli-test";
            info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (_, e) => Append(_out, e.Data, _outDone);
            _process.ErrorDataReceived += (_, e) => Append(_err, e.Data, _errDone);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            _process.StandardInput.Close();
        }

        /// <summary>Its process id.</summary>
        public int Pid => _process.Id;

        /// <summary>What it wrote on stdout so far.</summary>
        public string Out
        {
            get
            {
                lock (_out) return _out.ToString();
            }
        }

        /// <summary>What it wrote on stderr so far.</summary>
        public string Err
        {
            get
            {
                lock (_err) return _err.ToString();
            }
        }

        /// <summary>Sends a signal, as a shell's Ctrl-C (<c>INT</c>) or <c>kill</c> (<c>TERM</c>) does.</summary>
        /// <param name="signal">The signal's name.</param>
        /// <returns>A task that completes when it was sent.</returns>
        public async Task SignalAsync(string signal)
        {
            using var kill = Process.Start("kill", [$"-{signal}", Pid.ToString()]);
            await kill.WaitForExitAsync();
        }

        /// <summary>Waits until stdout holds a line that passes <paramref name="condition"/>.</summary>
        /// <param name="within">How long to wait.</param>
        /// <param name="condition">The test of a line.</param>
        /// <returns>The line.</returns>
        /// <exception cref="TimeoutException">None in time, or the CLI ended first.</exception>
        public async Task<string> AwaitLineAsync(TimeSpan within, Func<string, bool> condition)
        {
            var deadline = DateTime.UtcNow + within;
            while (true)
            {
                if (Out.Split('\n').FirstOrDefault(condition) is { } line) return line;
                if (_process.HasExited || DateTime.UtcNow > deadline)
                    throw new TimeoutException($"{_command}: no such line ({(_process.HasExited ? "exited " + _process.ExitCode : "running")})\n--- stdout\n{Out}--- stderr\n{Err}");
                await Task.Delay(50);
            }
        }

        /// <summary>Waits for the exit.</summary>
        /// <param name="within">How long; after it the CLI is killed and the call throws.</param>
        /// <returns>How it ended.</returns>
        /// <exception cref="TimeoutException">Still running.</exception>
        public async Task<Result> WaitAsync(TimeSpan within)
        {
            using var cts = new CancellationTokenSource(within);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
                await Task.WhenAll(_outDone.Task, _errDone.Task).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (OperationCanceledException)
            {
                Dispose();
                throw new TimeoutException($"{_command} still running after {within.TotalSeconds:0} s; killed\n--- stdout\n{Out}--- stderr\n{Err}");
            }
            return new Result(_process.ExitCode, Out, Err);
        }

        private static void Append(StringBuilder to, string? line, TaskCompletionSource done)
        {
            if (line is null)
            {
                done.TrySetResult();
                return;
            }
            lock (to) to.Append(line).Append('\n');
        }

        /// <summary>Kills the CLI if it still runs.</summary>
        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
        }
    }
}
