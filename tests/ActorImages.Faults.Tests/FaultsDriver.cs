using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace ActorImages.Faults.Tests;

/// <summary>
/// <c>bin/faults</c>: the fault scenarios against a running <c>bin/cluster</c> of three nodes on 127.0.0.1–3, ending
/// with one line of figures. Four P2 clients send 320 uploads over all nodes; after 100 are acknowledged the node
/// running the tracker singleton gets <c>kill -9</c> (<c>bin/cluster kill</c>); then it measures how long until the
/// tracker takes writes again on a survivor (failover), how long until every acknowledged image has two live replicas
/// again (repair), checks that every acknowledged upload downloads byte-identical from every survivor (lost), and
/// times a full restart (<c>bin/cluster down</c>, <c>bin/cluster up</c>) until every image and the tracker peer are
/// listed on every node (restart). Last, <see cref="Abuse"/> (the same code as <c>AbuseTest</c>): 1,000 slow
/// connections on each TCP listener of node 1 (the replica channel too, with the cluster certificate) and a P3 flood,
/// against the node's defaults, ending with a second line <c>abuse: &lt;n&gt; probes, node(s) up, legacy clients
/// served, nothing lost</c>. Every wait has a deadline; only loopback is addressed.
/// </summary>
public static class FaultsDriver
{
    private const int Clients = 4;
    private const int UploadsPerClient = 80;
    private const int KillAfterAcks = 100;
    private const string PeerFrom = "127.0.0.1";
    private static readonly string PeerMd5 = new('f', 32);
    private static readonly string Upd = $"UPD faults;pw 45001 '{PeerMd5},faults-peer.jpg'";

    /// <summary>Runs the scenarios.</summary>
    /// <param name="root">The repository root (where <c>bin/cluster</c> is).</param>
    /// <returns>0 when nothing acknowledged was lost and the abuse passed, else 1.</returns>
    public static async Task<int> RunAsync(string root)
    {
        try
        {
            return await RunScenariosAsync(Path.Combine(root, "bin", "cluster"), Path.Combine(root, "run"));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException)
        {
            await Console.Error.WriteLineAsync("faults: " + e.Message);
            return 1;
        }
    }

    private static async Task<int> RunScenariosAsync(string cluster, string run)
    {
        await RunAsync(cluster, "up", "--nodes", "3");
        var registered = await Wire.TryP3Async(Host(1), $"REG faults;pw 45001 '{PeerMd5},faults-peer.jpg'", PeerFrom, TimeSpan.FromSeconds(10));
        if (registered != "OK 1_REGISTERED_IMAGES" && await Wire.TryP3Async(Host(1), Upd, PeerFrom, TimeSpan.FromSeconds(10)) != "OK 1_REGISTERED_FILES")
            throw new InvalidOperationException($"the tracker did not take the peer's registration: '{registered}'");

        // Other images on every run: the catalog of run/ keeps those of earlier runs.
        var seedBase = Random.Shared.Next(1, 100_000) * 10_000;
        var tally = new UploadTally(KillAfterAcks);
        var dead = new HashSet<int>();
        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(() => Uploads.RunAsync(c, UploadsPerClient, 3, Host,
            i => { lock (dead) return !dead.Contains(i); }, tally, seedBase))).ToList();
        if (await Task.WhenAny(tally.Enough, Task.Delay(TimeSpan.FromSeconds(180))) != tally.Enough)
            throw new TimeoutException($"{KillAfterAcks} uploads not acknowledged in 180 s");

        var trackerHost = await Wire.TrackerHostAsync(Host(1)) ?? throw new InvalidOperationException("no tracker host in /api/cluster");
        var victim = int.Parse(trackerHost[(trackerHost.LastIndexOf('.') + 1)..], CultureInfo.InvariantCulture);
        var survivors = new[] { 1, 2, 3 }.Where(i => i != victim).ToList();
        lock (dead) dead.Add(victim);
        await RunAsync(cluster, "kill", victim.ToString(CultureInfo.InvariantCulture));
        var killed = Stopwatch.StartNew();
        await Poll.UntilAsync(TimeSpan.FromSeconds(60), "the tracker taking writes again",
            async () => await Wire.TryP3Async(Host(survivors[0]), Upd, PeerFrom, TimeSpan.FromSeconds(1)) == "OK 1_REGISTERED_FILES",
            TimeSpan.Zero);
        var failover = killed.Elapsed.TotalSeconds;
        var uploads = Task.WhenAll(clients);
        if (await Task.WhenAny(uploads, Task.Delay(TimeSpan.FromMinutes(10))) != uploads)
            throw new TimeoutException("the uploads did not finish in 10 minutes");

        var live = survivors.Select(Host).ToHashSet();
        foreach (var md5 in tally.Acknowledged.Keys)
        {
            await Poll.UntilAsync(TimeSpan.FromSeconds(180), "two live replicas of " + md5, async () =>
            {
                var holders = await Wire.HoldersAsync(Host(survivors[0]), md5);
                return holders.Count == 2 && holders.All(live.Contains);
            });
        }
        var repair = killed.Elapsed.TotalSeconds;

        var lost = 0;
        foreach (var (md5, bytes) in tally.Acknowledged)
        {
            foreach (var i in survivors)
            {
                byte[] got;
                try
                {
                    got = await Wire.GetP4Async(Host(i), md5);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
                {
                    got = [];
                }
                if (!got.AsSpan().SequenceEqual(bytes))
                {
                    lost++;
                    await Console.Error.WriteLineAsync($"faults: {md5} is not served byte-identical by node {i}");
                    break;
                }
            }
        }

        await RunAsync(cluster, "down");
        var restarted = Stopwatch.StartNew();
        await RunAsync(cluster, "up", "--nodes", "3");
        for (var i = 1; i <= 3; i++)
        {
            var node = i;
            await Poll.UntilAsync(TimeSpan.FromSeconds(120), $"node {i} listing every image and the peer", async () =>
                await Wire.ListedAsync(Host(node)) is { } listed && listed.ToHashSet().IsSupersetOf(tally.Acknowledged.Keys)
                && (await Wire.GetAsync(Host(node), "/api/tracker/peers"))?.Contains("\"port\":45001") == true,
                TimeSpan.FromSeconds(1));
        }
        var restart = restarted.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"faults: uploads acknowledged {tally.Acknowledged.Count} (failed cleanly {tally.Failed}), lost {lost}, " +
            $"failover {failover:0.0} s, repair {repair:0.0} s, restart {restart:0.0} s"));

        // Slow-loris connections from 127.0.0.100, the P3 flood from 127.0.0.200, a normal P3 client on 127.0.0.201.
        using var certificate = ClusterCertificate(run);
        var abuse = await Abuse.RunAsync(new AbuseTarget(Host(1), [Host(1), Host(2), Host(3)], "127.0.0.100", "127.0.0.200", "127.0.0.201",
            certificate), AbuseLimits.Defaults, perListener: 1000, line => Console.Error.WriteLine(line));
        await Console.Error.WriteLineAsync(abuse.Details());
        Console.WriteLine(abuse.Line);
        return lost == 0 && abuse.Passed ? 0 : 1;
    }

    /// <summary>The certificate <c>bin/cluster up</c> gave the nodes: <c>ACTORIMAGES_CLUSTER_CERT</c> and its password
    /// when set, else <c>run/cluster-cert.pfx</c> and <c>run/cluster-cert.password</c>; null when remoting is plain TCP
    /// (<c>ACTORIMAGES_REMOTE_TLS=off</c>), where there is no replica channel.</summary>
    private static X509Certificate2? ClusterCertificate(string run)
    {
        if (Environment.GetEnvironmentVariable("ACTORIMAGES_REMOTE_TLS") is "off" or "false" or "no") return null;
        var file = Environment.GetEnvironmentVariable("ACTORIMAGES_CLUSTER_CERT") is { Length: > 0 } set ? set : Path.Combine(run, "cluster-cert.pfx");
        var password = Environment.GetEnvironmentVariable("ACTORIMAGES_CLUSTER_CERT_PASSWORD") is { Length: > 0 } given
            ? given
            : File.ReadAllText(Path.Combine(run, "cluster-cert.password")).Trim();
        return X509CertificateLoader.LoadPkcs12FromFile(file, password);
    }

    private static string Host(int i) => "127.0.0." + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs <c>bin/cluster</c> with its output shown; fails unless it exits 0 within 10 minutes.</summary>
    private static async Task RunAsync(string cluster, params string[] args)
    {
        var info = new ProcessStartInfo(cluster) { UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{cluster} did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"bin/cluster {string.Join(' ', args)} took longer than 10 minutes");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"bin/cluster {string.Join(' ', args)} failed with exit code {process.ExitCode}");
    }
}
