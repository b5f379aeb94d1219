using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Cluster.Tests;

/// <summary>The 3-node cluster of <see cref="WebViewerTest"/> on 127.0.35.1–3.</summary>
public sealed class WebViewerCluster() : ClusterFixture(subnet: 35, count: 3);

/// <summary>
/// The web viewer (README "Web viewer") in real headless Chromium against a real 3-node cluster on 127.0.35.1–3. The
/// browser scripts are <c>web-tests/*.test.mjs</c> (playwright-core driving Debian's <c>/usr/bin/chromium</c>), run here
/// by <c>node --test</c> one file at a time, in name order: (a) a P1 image sent to node 1 appears on node 3's Latest
/// page, (b) browser uploads on node 2 show in node 1's Gallery, (b2) a HEIC and an AVIF sent over P1 show as well as
/// Chromium can (a note for the HEIC, the AVIF's original), (c) node 1's Cluster page shows node 3 leave, which
/// this test stops when the script asks its control endpoint (127.0.35.89). Screenshots go to <c>screenshots/</c> in
/// the test assembly's output folder. Chromium and npm are required (<c>.ci/run</c> installs both; the test runs
/// <c>npm ci</c> itself when <c>web-tests/node_modules</c> is missing): without them the test fails naming the install
/// command.
/// </summary>
public sealed class WebViewerTest(WebViewerCluster fixture, ITestOutputHelper output) : IClassFixture<WebViewerCluster>
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ControlHost = "127.0.35.89";
    /// <summary>All four scripts take well under a minute; this only ends a hung browser.</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(6);

    private static string WebTests => RepoPaths.Combine("web-tests");

    /// <summary>Where the screenshots go: the test assembly's output folder.</summary>
    public static string Screenshots => Path.Combine(AppContext.BaseDirectory, "screenshots");

    [Fact]
    public async Task TheWebViewerPassesItsBrowserTestsInHeadlessChromium()
    {
        Assert.True(File.Exists(Chromium), $"no {Chromium}: install it with `apt-get install -y chromium` (.ci/run does)");
        await InstallNodeModulesAsync();
        var scripts = Directory.GetFiles(WebTests, "*.test.mjs").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(4, scripts.Count);
        Directory.CreateDirectory(Screenshots);

        using var control = new ControlEndpoint(ControlHost, fixture.Cluster, output);
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = WebTests, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--test", "--test-concurrency=1", "--test-reporter=spec" }.Concat(scripts!)) info.ArgumentList.Add(arg!);
        for (var i = 1; i <= 3; i++) info.Environment[$"ACTORIMAGES_NODE_{i}"] = fixture.Cluster[i].Host;
        info.Environment["ACTORIMAGES_CONTROL"] = control.Url;
        info.Environment["ACTORIMAGES_TESTDATA"] = TestImages.Directory;
        info.Environment["SCREENSHOT_DIR"] = Screenshots;
        info.Environment["NO_COLOR"] = "1";

        var lines = new List<string>();
        void Log(string? line)
        {
            if (line is null) return;
            lock (lines) lines.Add(line);
            try
            {
                output.WriteLine("[web-tests] " + line);
            }
            catch (InvalidOperationException)
            {
                // the test has ended
            }
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"cannot run node ({e.Message}): install it with `apt-get install -y nodejs npm`");
        }
        using (process)
        {
            process.OutputDataReceived += (_, e) => Log(e.Data);
            process.ErrorDataReceived += (_, e) => Log(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.StandardInput.Close();
            var started = Stopwatch.StartNew();
            using var limit = new CancellationTokenSource(Limit);
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"node --test did not finish in {Limit.TotalMinutes} min; last output:\n{Tail(lines)}\n{fixture.Cluster.Logs()}");
            }
            process.WaitForExit();
            output.WriteLine($"browser tests took {started.Elapsed.TotalSeconds:0} s; screenshots in {Screenshots}");
            Assert.True(process.ExitCode == 0, $"node --test {string.Join(' ', scripts)} failed (exit {process.ExitCode}); output:\n{Tail(lines)}\n{fixture.Cluster.Logs()}");
        }
        lock (lines)
        {
            // Each script ran and passed: none was skipped (the Cluster one needs this test's control endpoint).
            Assert.Contains(lines, l => l.EndsWith(" pass 4"));
            Assert.Contains(lines, l => l.EndsWith(" skipped 0"));
        }
        foreach (var shot in new[] { "latest-node3-after-p1-on-node1", "upload-node2", "gallery-node1-detail", "gallery-node1", "gallery-node2-heic-detail", "cluster-node1-after-node3-left" })
            Assert.True(File.Exists(Path.Combine(Screenshots, shot + ".png")), $"screenshot {shot}.png");
    }

    /// <summary>
    /// Runs <c>npm ci</c> in web-tests when its <c>node_modules</c> is missing, as <c>.ci/run</c> does before
    /// <c>dotnet test</c>, so that the README's <c>dotnet test</c> needs no step of its own where npm is installed;
    /// without npm the test fails naming the install command.
    /// </summary>
    private async Task InstallNodeModulesAsync()
    {
        var playwright = Path.Combine(WebTests, "node_modules", "playwright-core");
        if (Directory.Exists(playwright)) return;
        output.WriteLine($"no {playwright}: running `npm ci` in {WebTests}");
        ChildProcess.Result installed;
        try
        {
            installed = await ChildProcess.RunAsync(TimeSpan.FromMinutes(5), WebTests, "npm", "ci", "--no-audit", "--no-fund");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException(
                $"no {WebTests}/node_modules and no npm to install it ({e.Message}): `apt-get install -y nodejs npm` (.ci/run does)");
        }
        Assert.True(installed.Exit == 0 && Directory.Exists(playwright), $"`npm ci` in {WebTests}: {installed.Describe()}");
    }

    private static string Tail(List<string> lines)
    {
        lock (lines) return string.Join("\n", lines.TakeLast(80));
    }

    /// <summary>
    /// <c>POST /stop/&lt;i&gt;</c> stops node i gracefully (SIGTERM) and answers 204 once it has exited: how the Cluster
    /// page script stops node 3, since only this test owns the node processes.
    /// </summary>
    private sealed class ControlEndpoint : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();

        public ControlEndpoint(string host, TestCluster cluster, ITestOutputHelper output)
        {
            _listener = new TcpListener(IPAddress.Parse(host), 0);
            _listener.Start();
            Url = $"http://{host}:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            _ = Task.Run(() => ServeAsync(cluster, output));
        }

        public string Url { get; }

        private async Task ServeAsync(TestCluster cluster, ITestOutputHelper output)
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
                using (client)
                {
                    var stream = client.GetStream();
                    var request = new StringBuilder();
                    var buffer = new byte[4096];
                    while (!request.ToString().Contains("\r\n\r\n"))
                    {
                        var n = await stream.ReadAsync(buffer);
                        if (n == 0) break;
                        request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    }
                    var line = request.ToString().Split("\r\n")[0].Split(' ');
                    string status;
                    if (line is ["POST", var path, _] && path.StartsWith("/stop/") && int.TryParse(path[6..], out var node) && node is >= 1 and <= 3)
                    {
                        output.WriteLine($"browser test asks to stop node {node}");
                        var code = await cluster[node].StopAsync(TimeSpan.FromSeconds(60));
                        status = code is null ? "500 Internal Server Error" : "204 No Content";
                    }
                    else
                    {
                        status = "400 Bad Request";
                    }
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
