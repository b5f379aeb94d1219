using System.Diagnostics;
using System.Text;

namespace ActorImages.Testing;

/// <summary>Child processes of the tests (the legacy clients through <see cref="LegacyPython"/>, the CLI, <c>npm ci</c>),
/// each bounded in time and killed with its children if it outlives it.</summary>
public static class ChildProcess
{
    /// <summary>Runs <paramref name="command"/> in <paramref name="workingDirectory"/> with its stdin closed.</summary>
    /// <param name="timeout">How long it may run; after that it is killed and the call throws.</param>
    /// <param name="workingDirectory">Where it runs.</param>
    /// <param name="command">The program (looked up on the PATH) and its arguments.</param>
    /// <returns>Its exit status and everything it printed.</returns>
    /// <exception cref="System.ComponentModel.Win32Exception">The program cannot be started (it is not installed).</exception>
    /// <exception cref="TimeoutException">It still ran after <paramref name="timeout"/>.</exception>
    public static async Task<Result> RunAsync(TimeSpan timeout, string workingDirectory, params string[] command)
    {
        await using var running = new Running(command, workingDirectory);
        return await running.FinishAsync(timeout);
    }

    /// <summary>What a finished process did.</summary>
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

    /// <summary>A running process: <see cref="FinishAsync"/> closes its stdin and waits; disposing kills it (and its children).</summary>
    public sealed class Running : IDisposable, IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();
        private readonly TaskCompletionSource _stdoutDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _stderrDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string _command;

        /// <summary>Starts <paramref name="command"/>.</summary>
        /// <param name="command">The program (looked up on the PATH) and its arguments.</param>
        /// <param name="workingDirectory">Where it runs; null for this process's.</param>
        /// <param name="environment">Variables set for it besides this process's (a null value removes one), or null.</param>
        /// <param name="closeStdin">Close its stdin at once (a command that must not wait for input), instead of in
        /// <see cref="FinishAsync"/>.</param>
        /// <exception cref="System.ComponentModel.Win32Exception">The program cannot be started (it is not installed).</exception>
        public Running(IReadOnlyList<string> command, string? workingDirectory,
            IReadOnlyDictionary<string, string?>? environment = null, bool closeStdin = false)
        {
            _command = string.Join(' ', command);
            var info = new ProcessStartInfo(command[0])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false, StandardOutputEncoding = Encoding.UTF8, StandardErrorEncoding = Encoding.UTF8,
            };
            foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
            if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
            foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            {
                if (value is null) info.Environment.Remove(name);
                else info.Environment[name] = value;
            }
            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (_, e) => Append(e.Data, _stdout, _stdoutDone);
            _process.ErrorDataReceived += (_, e) => Append(e.Data, _stderr, _stderrDone);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            if (closeStdin) _process.StandardInput.Close();
        }

        /// <summary>Its process id.</summary>
        public int Pid => _process.Id;

        /// <summary>Everything printed so far, stdout and stderr interleaved as they arrived.</summary>
        public string Output => Read(_output);

        /// <summary>What it wrote on stdout so far.</summary>
        public string Out => Read(_stdout);

        /// <summary>What it wrote on stderr so far.</summary>
        public string Err => Read(_stderr);

        private static string Read(StringBuilder text)
        {
            lock (text) return text.ToString();
        }

        /// <summary>Sends a signal, as a shell's Ctrl-C (<c>INT</c>) or <c>kill</c> (<c>TERM</c>) does.</summary>
        /// <param name="signal">The signal's name.</param>
        /// <returns>A task that completes when it was sent.</returns>
        public async Task SignalAsync(string signal)
        {
            using var kill = Process.Start("kill", [$"-{signal}", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        /// <summary>Waits until a printed line matches <paramref name="condition"/>.</summary>
        /// <param name="timeout">How long to wait.</param>
        /// <param name="what">What the line is, for the failure message.</param>
        /// <param name="condition">The test of a line.</param>
        /// <param name="stdoutOnly">Look at stdout's lines only, not stderr's.</param>
        /// <returns>The first matching line.</returns>
        /// <exception cref="TimeoutException">No such line in time, or the process ended without one.</exception>
        public async Task<string> AwaitLineAsync(TimeSpan timeout, string what, Func<string, bool> condition, bool stdoutOnly = false)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                var output = Output;
                var line = (stdoutOnly ? Out : output).Split('\n').FirstOrDefault(condition);
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

        /// <summary>Closes stdin, if still open (a legacy peer then ends its session), and waits for the exit.</summary>
        /// <param name="timeout">How long to wait; after it the process is killed and the call throws.</param>
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

        private void Append(string? line, StringBuilder stream, TaskCompletionSource done)
        {
            if (line is null)
            {
                done.TrySetResult();
                return;
            }
            lock (_output) _output.Append(line).Append('\n');
            lock (stream) stream.Append(line).Append('\n');
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

        /// <summary>Kills the process if it still runs.</summary>
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
