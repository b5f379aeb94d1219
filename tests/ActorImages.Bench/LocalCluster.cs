using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ActorImages.Bench;

/// <summary>
/// The local <c>bin/cluster</c> as bin/bench drives it: reshaping it (its output goes to <c>run/bench-cluster.log</c>,
/// so the figures stay readable), each node's pid and resident memory, and the HTTP API calls the scenarios need.
/// Node i is 127.0.0.i; only loopback is addressed.
/// </summary>
internal sealed class LocalCluster(string root)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The repository root.</summary>
    public string Root => root;

    /// <summary>Where bin/cluster's output goes.</summary>
    public string Log => Path.Combine(root, "run", "bench-cluster.log");

    /// <summary>Address of node <paramref name="i"/>.</summary>
    public static string Host(int i) => "127.0.0." + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs <c>bin/cluster args</c> with <paramref name="environment"/> added; throws naming the log on failure.</summary>
    public async Task RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Log)!);
        var start = Stopwatch.StartNew();
        var info = new ProcessStartInfo(Path.Combine(root, "bin", "cluster")) { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        await using var log = new StreamWriter(Log, append: true);
        await log.WriteLineAsync($"--- {DateTime.Now:O} bin/cluster {string.Join(' ', args)} {string.Join(' ', environment.Select(e => e.Key + "=" + e.Value))}");
        var copyOut = CopyAsync(process.StandardOutput, log);
        var copyErr = CopyAsync(process.StandardError, log);
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"bin/cluster {string.Join(' ', args)} took over 6 minutes; see {Log}");
        }
        await Task.WhenAll(copyOut, copyErr);
        if (process.ExitCode != 0) throw new InvalidOperationException($"bin/cluster {string.Join(' ', args)} failed (exit {process.ExitCode}); see {Log}");
        Console.WriteLine($"  (bin/cluster {string.Join(' ', args)}{(environment.Count > 0 ? " with " + string.Join(' ', environment.Select(e => e.Key + "=" + e.Value)) : "")}: {start.Elapsed.TotalSeconds:0} s)");
    }

    private static async Task CopyAsync(StreamReader from, StreamWriter to)
    {
        while (await from.ReadLineAsync() is { } line)
        {
            lock (to) to.WriteLine(line);
        }
    }

    /// <summary>The pid of node <paramref name="i"/> when its process runs (<c>run/node-i/pid</c>).</summary>
    public int? Pid(int i)
    {
        try
        {
            string file = Path.Combine(root, "run", $"node-{i}", "pid");
            if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out int pid)) return null;
            string cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains("ActorImages.Node.dll", StringComparison.Ordinal) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The numbers of the nodes whose process runs.</summary>
    public IReadOnlyList<int> RunningNodes() => Enumerable.Range(1, 9).Where(i => Pid(i) is not null).ToList();

    /// <summary>The CPU time (user + system) process <paramref name="pid"/> has used so far, or null when it is gone.</summary>
    public static TimeSpan? CpuTime(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.TotalProcessorTime;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return null; // exited in between
        }
    }

    /// <summary>VmRSS of process <paramref name="pid"/> in bytes (from /proc/&lt;pid&gt;/status), or null.</summary>
    public static long? Rss(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // gone
        }
        return null;
    }

    /// <summary><c>GET http://127.0.0.i:8080path</c>: the status and the body.</summary>
    public static async Task<(int Status, string Body)> GetAsync(int node, string path, CancellationToken ct = default)
    {
        using var response = await Http.GetAsync($"http://{Host(node)}:8080{path}", ct);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    /// <summary><c>GET</c> a JSON document from node <paramref name="node"/> and read it with
    /// <paramref name="read"/>; <paramref name="fallback"/> when the node does not answer 200 with JSON that
    /// <paramref name="read"/> understands (a node starting or stopping).</summary>
    public static async Task<T> GetJsonAsync<T>(int node, string path, Func<JsonElement, T> read, T fallback)
    {
        try
        {
            var (status, body) = await GetAsync(node, path);
            if (status != 200) return fallback;
            using var json = JsonDocument.Parse(body);
            return read(json.RootElement);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException
                                      or InvalidOperationException)
        {
            return fallback;
        }
    }

    /// <summary>The catalog's size as node <paramref name="node"/> reports it (<c>/api/stats</c>), or -1.</summary>
    public static Task<long> CatalogSizeAsync(int node = 1) =>
        GetJsonAsync(node, "/api/stats", root =>
        {
            foreach (string key in new[] { "images", "entries", "count" })
            {
                if (root.TryGetProperty(key, out var value) && value.TryGetInt64(out long n)) return n;
            }
            return -1L;
        }, -1L);
}

/// <summary>
/// Samples the resident memory (VmRSS) of every running node every 200 ms while a scenario's timed window runs,
/// keeping each node's peak.
/// </summary>
internal sealed class RssSampler : IAsyncDisposable
{
    private readonly LocalCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private readonly Dictionary<int, long> _peak = [];

    /// <summary>Starts sampling.</summary>
    public RssSampler(LocalCluster cluster)
    {
        _cluster = cluster;
        _sampling = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                try
                {
                    await Task.Delay(200, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
    }

    private void Sample()
    {
        foreach (int i in _cluster.RunningNodes())
        {
            if (_cluster.Pid(i) is { } pid && LocalCluster.Rss(pid) is { } rss)
            {
                lock (_peak) _peak[i] = Math.Max(_peak.GetValueOrDefault(i), rss);
            }
        }
    }

    /// <summary>Each node's peak RSS in bytes, by node number.</summary>
    public IReadOnlyDictionary<int, long> Peaks
    {
        get
        {
            lock (_peak) return new SortedDictionary<int, long>(_peak);
        }
    }

    /// <summary>Stops sampling (one last sample first).</summary>
    public async ValueTask DisposeAsync()
    {
        Sample();
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
