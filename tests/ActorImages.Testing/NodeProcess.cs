using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace ActorImages.Testing;

/// <summary>
/// One real ActorImages node as a child process (<c>dotnet ActorImages.Node.dll</c>) bound to its own loopback address
/// with the standard ports, as <c>bin/cluster</c> runs it. Its output goes to <see cref="LogPath"/>; a failing test
/// names that file. Multi-node tests use several on 127.0.X.1, 127.0.X.2, … (docs/design.md, "Running without
/// containers").
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    /// <summary>Idle connections close after 5 s, before the node's keep-alive of 30 s would close them in the middle of
    /// a test that counts the node's connections (DescriptorLimitTest).</summary>
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };
    private readonly Dictionary<string, string> _environment;
    private readonly IReadOnlyList<string> _launcher;
    private readonly IReadOnlyList<string> _command;
    private readonly bool _holdOutput;
    private Process? _process;
    private bool _outputRead;

    /// <summary>Creates (does not start) a node.</summary>
    /// <param name="host">Its loopback address, e.g. <c>127.0.21.1</c>.</param>
    /// <param name="dataDir">Its data directory.</param>
    /// <param name="dbUrl">The catalog database.</param>
    /// <param name="seeds">The seed nodes' hosts (remoting port 25520).</param>
    /// <param name="extra">More <c>ACTORIMAGES_*</c> variables; they replace the defaults, among them the test run's
    /// cluster certificate (<see cref="TestCertificates.Cluster"/>, so remoting is TLS).</param>
    /// <param name="launcher">A command the node runs under, e.g. <c>ip netns exec NS</c> for a node in a network
    /// namespace (the partition tests); it must exec the node so that the process is the node itself.</param>
    /// <param name="holdOutput">Leave the node's standard output unread after each start, until
    /// <see cref="ReleaseOutput"/>: its pipe fills (64 KiB on Linux) as a stalled log reader's would.</param>
    /// <param name="command">The node itself, instead of <c>dotnet</c> <see cref="NodeBinaries.Dll"/>: e.g. a build
    /// for another architecture under an emulator (MixedArchitectureTest). It must be the process that runs the
    /// node, as a launcher's command must.</param>
    public NodeProcess(string host, string dataDir, string dbUrl, IEnumerable<string> seeds,
        IReadOnlyDictionary<string, string>? extra = null, IReadOnlyList<string>? launcher = null, bool holdOutput = false,
        IReadOnlyList<string>? command = null)
    {
        Host = host;
        _launcher = launcher ?? [];
        _command = command ?? [];
        _holdOutput = holdOutput;
        DataDir = dataDir;
        LogPath = Path.Combine(Path.GetDirectoryName(dataDir)!, $"{host}.log");
        _environment = new Dictionary<string, string>
        {
            ["ACTORIMAGES_HOST"] = host,
            ["ACTORIMAGES_DATA_DIR"] = dataDir,
            ["ACTORIMAGES_DB_URL"] = dbUrl,
            ["ACTORIMAGES_SEED_NODES"] = string.Join(",", seeds.Select(s => $"akka.tcp://ActorImages@{s}:25520")),
            ["ACTORIMAGES_ADMIN_TOKEN"] = AdminToken,
            ["ACTORIMAGES_CLUSTER_CERT"] = TestCertificates.Cluster,
            ["ACTORIMAGES_CLUSTER_CERT_PASSWORD"] = TestCertificates.Password,
            ["ACTORIMAGES_CONFIG"] = Profile,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) _environment[k] = v;
    }

    /// <summary>The admin and cluster token every test node shares.</summary>
    public const string AdminToken = "test-admin-token";

    /// <summary>The node profile every test node runs with unless a test names another
    /// (<c>tests/ActorImages.Testing/test-node.conf</c>: the defaults, but a cluster forms about 3 s sooner).</summary>
    public static string Profile => RepoPaths.Combine("tests", "ActorImages.Testing", "test-node.conf");

    /// <summary>The node's loopback address.</summary>
    public string Host { get; }

    /// <summary>The node's data directory.</summary>
    public string DataDir { get; }

    /// <summary>Where this node keeps the thumbnail of the image with <paramref name="md5"/> once it has made one:
    /// <c>data-dir/thumbnails/&lt;md5&gt;.jpg</c> (BlobStore.ThumbnailPath; README "Web viewer").</summary>
    /// <param name="md5">The image's lowercase hex MD5.</param>
    /// <returns>The file's path; the file may not exist.</returns>
    public string ThumbnailFile(string md5) => Path.Combine(DataDir, "thumbnails", md5 + ".jpg");

    /// <summary>Where its standard output and error go.</summary>
    public string LogPath { get; }

    /// <summary>The HTTP API's base address.</summary>
    public Uri HttpBase => new($"http://{Host}:8080/");

    /// <summary>The process id of the running (or last) process, or null before the first start.</summary>
    public int? Pid => _process?.Id;

    /// <summary>Whether the process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The exit code once it has exited.</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Starts the process (appending to its log).</summary>
    public void Start()
    {
        Directory.CreateDirectory(DataDir);
        var command = _launcher.Concat(_command.Count > 0 ? _command : ["dotnet", NodeBinaries.Dll]).ToList();
        var info = new ProcessStartInfo(command[0], command.Skip(1))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var (k, v) in _environment) info.Environment[k] = v;
        var log = new StreamWriter(LogPath, append: true) { AutoFlush = true };
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        _process.Start();
        _outputRead = false;
        if (!_holdOutput) ReleaseOutput();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts reading the standard output of the running (or exited) process into <see cref="LogPath"/>, if
    /// it is not read yet: what its pipe holds first, then what follows.</summary>
    public void ReleaseOutput()
    {
        if (_process is null || _outputRead) return;
        _outputRead = true;
        _process.BeginOutputReadLine();
    }

    /// <summary>SIGKILL: no leave, the others must notice (fault tests).</summary>
    public void Kill()
    {
        if (IsRunning) _process!.Kill();
        _process?.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, then waits for the exit.</summary>
    /// <param name="timeout">How long to wait before SIGKILL.</param>
    /// <returns>The exit code, or null when it had to be killed.</returns>
    public async Task<int?> StopAsync(TimeSpan timeout)
    {
        if (!IsRunning) return ExitCode;
        using (var kill = Process.Start("kill", ["-TERM", _process!.Id.ToString()])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Kill();
            return null;
        }
    }

    /// <summary>Waits for the process to exit by itself.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The exit code, or null when it still runs.</returns>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process!.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>This node's <c>GET /api/cluster</c>, or null when it does not answer.</summary>
    /// <returns>The JSON document.</returns>
    public async Task<JsonDocument?> ClusterAsync()
    {
        try
        {
            return JsonDocument.Parse(await Http.GetStringAsync(new Uri(HttpBase, "api/cluster")));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>How many members this node sees Up (0 when it does not answer).</summary>
    /// <returns>The count.</returns>
    public async Task<int> UpMembersAsync() => (await MembershipAsync())?.Up.Count ?? 0;

    /// <summary>This node's view of the cluster from <c>GET /api/cluster</c>: the hosts of the members it sees Up and
    /// reachable, and the leader it names (empty when none); null when it does not answer.</summary>
    /// <returns>The view.</returns>
    public async Task<MembershipView?> MembershipAsync()
    {
        using var doc = await ClusterAsync();
        if (doc is null) return null;
        var up = doc.RootElement.GetProperty("members").EnumerateArray()
            .Where(m => m.GetProperty("status").GetString() == "Up" && m.GetProperty("reachable").GetBoolean())
            .Select(m => m.GetProperty("host").GetString()!)
            .ToHashSet();
        return new MembershipView(up, doc.RootElement.GetProperty("leader").GetString() ?? "");
    }

    /// <summary>Whether <c>/ready</c> answers 200.</summary>
    /// <returns>True when ready.</returns>
    public async Task<bool> ReadyAsync()
    {
        try
        {
            using var response = await Http.GetAsync(new Uri(HttpBase, "ready"));
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>The whole log, read while the node and this process's reader of its output may still write to it.</summary>
    /// <returns>The text.</returns>
    /// <exception cref="IOException">The log does not exist yet.</exception>
    public string ReadLog()
    {
        using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    /// <summary>The last lines of the log, for assertion messages.</summary>
    /// <param name="lines">How many.</param>
    /// <returns>The text.</returns>
    public string Tail(int lines = 40)
    {
        try
        {
            var all = ReadLog().Split('\n');
            return $"--- {LogPath} (last {lines} lines)\n" + string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return $"--- {LogPath}: no log";
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (IsRunning) await StopAsync(TimeSpan.FromSeconds(20));
        _process?.Dispose();
    }
}

/// <summary>A node's view of the cluster (<see cref="NodeProcess.MembershipAsync"/>).</summary>
/// <param name="Up">The hosts of the members it sees Up and reachable.</param>
/// <param name="Leader">The leader's host, empty when it names none.</param>
public sealed record MembershipView(IReadOnlySet<string> Up, string Leader);
