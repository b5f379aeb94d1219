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

    /// <summary>No bytecode files in <c>legacy-clients/</c>, and UTF-8 output whatever the locale.</summary>
    private static readonly IReadOnlyDictionary<string, string?> PythonEnvironment = new Dictionary<string, string?>
    {
        ["PYTHONDONTWRITEBYTECODE"] = "1",
        ["PYTHONIOENCODING"] = "utf-8",
    };

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
    public static async Task<ChildProcess.Result> RunAsync(TimeSpan timeout, string script, params string[] args)
    {
        await using var running = Start(script, args);
        return await running.FinishAsync(timeout);
    }

    /// <summary>Starts <paramref name="script"/> with its stdin open: a peer's <c>--register</c> serves its folder
    /// until <see cref="ChildProcess.Running.FinishAsync"/> closes stdin.</summary>
    /// <param name="script">A file of <c>legacy-clients/</c>.</param>
    /// <param name="args">Its arguments.</param>
    /// <returns>The running client.</returns>
    public static ChildProcess.Running Start(string script, params string[] args) =>
        new([Require(), "-u", Path.Combine(ClientsDir, script), .. args], ClientsDir, PythonEnvironment);

    private static (string?, string?) Resolve()
    {
        var chosen = Environment.GetEnvironmentVariable("ACTORIMAGES_LEGACY_PYTHON");
        string[] candidates = string.IsNullOrEmpty(chosen) ? ["python3", "/usr/bin/python3"] : [chosen];
        var failures = new List<string>();
        foreach (var python in candidates)
        {
            try
            {
                using var probe = new ChildProcess.Running([python, "-c", "import websockets"], null, PythonEnvironment);
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
}
