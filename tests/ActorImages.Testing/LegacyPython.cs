using System.Diagnostics;
using System.Text;

namespace ActorImages.Testing;

/// <summary>
/// Runs the Python reconstructions of the legacy clients in <c>legacy-clients/</c> (docs/protocols.md) as child
/// processes, each bounded in time and killed if it outlives it. The interpreter is <c>ACTORIMAGES_LEGACY_PYTHON</c>
/// when set, else the first of <c>python3</c> and <c>/usr/bin/python3</c> that can <c>import websockets</c>: Debian's
/// <c>python3-websockets</c> (what <c>.ci/run</c> installs) is visible only to Debian's own interpreter, while
/// <c>python3</c> on the PATH may be another one (pyenv) that cannot see it.
/// </summary>
public static class LegacyPython
{
    private static readonly Lazy<(string? Interpreter, string? Why)> Resolved = new(Resolve);

    /// <summary>The interpreter the clients run with, or null when none can import websockets (see <see cref="Why"/>).</summary>
    public static string? Interpreter => Resolved.Value.Interpreter;

    /// <summary>Why no interpreter fits, naming the install command; null when one does.</summary>
    public static string? Why => Resolved.Value.Why;

    /// <summary>The <c>legacy-clients/</c> folder of the repository.</summary>
    public static string ClientsDir => RepoPaths.Combine("legacy-clients");

    /// <summary>The interpreter, or an exception whose message says what to install.</summary>
    /// <returns>The interpreter's command.</returns>
    /// <exception cref="InvalidOperationException">No Python can import websockets.</exception>
    public static string Require() => Interpreter ?? throw new InvalidOperationException(
        "no Python for the legacy clients: " + Why);

    /// <summary>Runs <paramref name="script"/> to its end with its stdin closed at once (the one-shot modes never
    /// read it).</summary>
    /// <param name="timeout">How long it may run; after that it is killed and the call throws.</param>
    /// <param name="script">A file of <c>legacy-clients/</c>.</param>
    /// <param name="args">Its arguments.</param>
    /// <returns>Its exit status and everything it printed.</returns>
    /// <exception cref="TimeoutException">It still ran after <paramref name="timeout"/>.</exception>
    public static async Task<Result> RunAsync(TimeSpan timeout, string script, params string[] args)
    {
        await using var running = Start(script, args);
        return await running.FinishAsync(timeout);
    }

    /// <summary>Starts <paramref name="script"/> with its stdin open: a peer's <c>--register</c> serves its folder
    /// until <see cref="Running.FinishAsync"/> closes stdin.</summary>
    /// <param name="script">A file of <c>legacy-clients/</c>.</param>
    /// <param name="args">Its arguments.</param>
    /// <returns>The running client.</returns>
    public static Running Start(string script, params string[] args) =>
        new([Require(), "-u", Path.Combine(ClientsDir, script), .. args], ClientsDir);

    private static (string?, string?) Resolve()
    {
        var chosen = Environment.GetEnvironmentVariable("ACTORIMAGES_LEGACY_PYTHON");
        string[] candidates = string.IsNullOrEmpty(chosen) ? ["python3", "/usr/bin/python3"] : [chosen];
        var failures = new List<string>();
        foreach (var python in candidates)
        {
            try
            {
                using var probe = new Running([python, "-c", "import websockets"], null);
                var result = probe.FinishAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
                if (result.Exit == 0) return (python, null);
                var last = result.Output.TrimEnd().Split('\n')[^1];
                failures.Add($"`{python} -c \"import websockets\"` exited {result.Exit}: {last}");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException)
            {
                failures.Add($"`{python}` could not run: {e.Message}");
            }
        }
        return (null, string.Join("; ", failures)
            + " (install Debian's websockets: `apt-get install -y python3-websockets`, as .ci/run does, "
            + "or set ACTORIMAGES_LEGACY_PYTHON to an interpreter that has it)");
    }

    /// <summary>What a finished client did.</summary>
    /// <param name="Exit">Its exit status.</param>
    /// <param name="Output">Everything it printed, stdout and stderr interleaved as they arrived.</param>
    public sealed record Result(int Exit, string Output)
    {
        /// <summary>Assertion text: the exit status and the whole output.</summary>
        /// <returns>The text.</returns>
        public string Describe() => $"exit {Exit}, output:\n{Output}";

        /// <inheritdoc />
        public override string ToString() => Describe();
    }

    /// <summary>A running client: <see cref="FinishAsync"/> closes its stdin and waits; disposing kills it.</summary>
    public sealed class Running : IDisposable, IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource _stdoutDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _stderrDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string _command;

        internal Running(IReadOnlyList<string> command, string? workingDirectory)
        {
            _command = string.Join(' ', command);
            var info = new ProcessStartInfo(command[0])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false, StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
            };
            foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
            if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
            info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
            info.Environment["PYTHONIOENCODING"] = "utf-8";
            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (_, e) => Append(e.Data, _stdoutDone);
            _process.ErrorDataReceived += (_, e) => Append(e.Data, _stderrDone);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        /// <summary>Everything printed so far.</summary>
        public string Output
        {
            get
            {
                lock (_output) return _output.ToString();
            }
        }

        /// <summary>Waits until a printed line matches <paramref name="condition"/>.</summary>
        /// <param name="timeout">How long to wait.</param>
        /// <param name="what">What the line is, for the failure message.</param>
        /// <param name="condition">The test of a line.</param>
        /// <returns>The first matching line.</returns>
        /// <exception cref="TimeoutException">No such line in time, or the client ended without one.</exception>
        public async Task<string> AwaitLineAsync(TimeSpan timeout, string what, Func<string, bool> condition)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                var output = Output;
                var line = output.Split('\n').FirstOrDefault(condition);
                if (line is not null) return line;
                var ended = _process.HasExited && _stdoutDone.Task.IsCompleted && _stderrDone.Task.IsCompleted;
                if (ended || DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"no line {what} from {_command} (" +
                        (_process.HasExited ? $"exited {_process.ExitCode}" : "running") + $"); output:\n{output}");
                }
                await Task.Delay(50);
            }
        }

        /// <summary>Closes stdin (a peer then ends its session) and waits for the exit.</summary>
        /// <param name="timeout">How long to wait; after it the client is killed and the call throws.</param>
        /// <returns>How it finished.</returns>
        /// <exception cref="TimeoutException">Still running after <paramref name="timeout"/>.</exception>
        public async Task<Result> FinishAsync(TimeSpan timeout)
        {
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // it has already gone
            }
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
                await Task.WhenAll(_stdoutDone.Task, _stderrDone.Task).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (OperationCanceledException)
            {
                Kill();
                throw new TimeoutException($"{_command} still running {timeout.TotalSeconds:0} s after its stdin closed; " +
                                           $"killed. Output so far:\n{Output}");
            }
            return new Result(_process.ExitCode, Output);
        }

        private void Append(string? line, TaskCompletionSource done)
        {
            if (line is null)
            {
                done.TrySetResult();
                return;
            }
            lock (_output) _output.Append(line).Append('\n');
        }

        private void Kill()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // never started or already reaped
            }
        }

        /// <summary>Kills the client if it still runs.</summary>
        public void Dispose()
        {
            Kill();
            _process.Dispose();
        }

        /// <inheritdoc />
        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
