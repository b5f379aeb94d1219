namespace ActorImages.Testing;

/// <summary>
/// A real cluster of <see cref="NodeProcess"/>es for one test class: node i on <c>127.0.{Subnet}.i</c>, the first
/// three (or fewer) the seeds, one fresh database on the tests' private PostgreSQL server, data under a temp folder
/// that is removed afterwards unless the test failed. Each test class picks its own subnet so classes of different
/// assemblies can run at the same time.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly string _root;

    private TestCluster(int subnet, string dbUrl, string root, IReadOnlyList<NodeProcess> nodes)
    {
        Subnet = subnet;
        DbUrl = dbUrl;
        _root = root;
        Nodes = nodes;
    }

    /// <summary>The third byte of every node's address.</summary>
    public int Subnet { get; }

    /// <summary>The cluster's catalog database.</summary>
    public string DbUrl { get; }

    /// <summary>The nodes, index 0 = node 1.</summary>
    public IReadOnlyList<NodeProcess> Nodes { get; }

    /// <summary>Node <paramref name="i"/> (1-based).</summary>
    /// <param name="i">The node number.</param>
    public NodeProcess this[int i] => Nodes[i - 1];

    /// <summary>Starts <paramref name="count"/> nodes and waits until every one sees all of them Up.</summary>
    /// <param name="subnet">The third address byte, unique per test class (10..250).</param>
    /// <param name="count">How many nodes.</param>
    /// <param name="extra">More <c>ACTORIMAGES_*</c> variables for every node.</param>
    /// <param name="timeout">How long to wait for Up (default 90 s).</param>
    /// <param name="dbUrl">The catalog database; default: a fresh one on the tests' shared server.</param>
    /// <returns>The running cluster.</returns>
    /// <exception cref="TimeoutException">Not all Up in time; the message holds the nodes' log tails.</exception>
    public static async Task<TestCluster> StartAsync(int subnet, int count,
        IReadOnlyDictionary<string, string>? extra = null, TimeSpan? timeout = null, string? dbUrl = null)
    {
        dbUrl ??= await PostgresServer.CreateDatabaseUrlAsync();
        var root = Path.Combine(Path.GetTempPath(), $"actorimages-test-{subnet}-{Guid.NewGuid():N}");
        var seeds = Enumerable.Range(1, Math.Min(3, count)).Select(i => $"127.0.{subnet}.{i}").ToList();
        var nodes = Enumerable.Range(1, count)
            .Select(i => new NodeProcess($"127.0.{subnet}.{i}", Path.Combine(root, $"node-{i}", "data"), dbUrl, seeds, extra))
            .ToList();
        var cluster = new TestCluster(subnet, dbUrl, root, nodes);
        foreach (var node in nodes) node.Start();
        try
        {
            await cluster.WaitUpAsync(count, timeout ?? TimeSpan.FromSeconds(90));
        }
        catch
        {
            // xUnit does not dispose a fixture whose initialisation failed: stop the processes here.
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
            throw;
        }
        return cluster;
    }

    /// <summary>Waits until every running node sees <paramref name="count"/> members Up and answers <c>/ready</c>.</summary>
    /// <param name="count">Members expected Up.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>A task that completes when they do.</returns>
    /// <exception cref="TimeoutException">Not in time; the message holds the nodes' log tails.</exception>
    public async Task WaitUpAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            var running = Nodes.Where(n => n.IsRunning).ToList();
            var ok = running.Count >= count;
            var views = new List<string>();
            foreach (var node in running)
            {
                var up = await node.UpMembersAsync();
                var ready = await node.ReadyAsync();
                views.Add($"{node.Host}: {up} Up, ready {ready}");
                ok &= up == count && ready;
            }
            if (ok) return;
            seen = $"{running.Count} running; " + string.Join("; ", views);
            await Task.Delay(500);
        }
        throw new TimeoutException($"cluster 127.0.{Subnet}.x not {count} Up within {timeout} (last seen: {seen})\n" +
                                   string.Join("\n", Nodes.Select(n => n.Tail())));
    }

    /// <summary>The log tails of every node, for assertion messages.</summary>
    /// <returns>The text.</returns>
    public string Logs() => string.Join("\n", Nodes.Select(n => n.Tail()));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Nodes.Select(n => n.DisposeAsync().AsTask()));
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
