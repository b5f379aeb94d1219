using System.Text.RegularExpressions;
using ActorImages.Testing;
using Xunit;
using Xunit.Abstractions;

namespace ActorImages.Faults.Tests;

/// <summary>
/// A node under a pids limit, as in a container with one (README, "Limits and security"): one node on 127.0.47.1
/// started in a control group of its own (<see cref="PidsGroup"/>) whose <c>pids.max</c> is <see cref="Limit"/> tasks.
/// .NET 10 aborts a process whose thread pool is refused a worker (measured: a node held at its task count aborted
/// within 10 s of load in three runs of five), so the node bounds its pool at start to what the limit leaves
/// (src/ActorImages.Node/Config/ThreadBudget.cs) and says so. Under P1 load from 32 clients it stays up, stores every
/// acknowledged image, and the limit refuses it nothing. The bound follows the limit while the node runs: removed,
/// the pool gets its maximum back; set again, the new limit bounds it. (A group filled by others after the start is beyond the bound:
/// filled to the last task while the node answered a thumbnail, the node aborted in two runs of three, its pool
/// refused a worker. A renderer refused a thread then is answered 503 and asked again, as one the kernel kills:
/// WebApiTest, Cluster.)
/// </summary>
public sealed class PidsLimitTest(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Host = "127.0.47.1";

    /// <summary>The group's limit in tasks: about three times what an idle node runs (21 outside its thread pool here).</summary>
    private const int Limit = 96;

    private readonly PidsGroup _group = PidsGroup.Create("pids-limit");
    private TestCluster _cluster = null!;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _group.Limit = Limit;
        _cluster = await TestCluster.StartAsync([Host],
            extra: new Dictionary<string, string> { ["ACTORIMAGES_REPLICATION_FACTOR"] = "1" },
            launcher: _ => _group.Launcher);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _group.Dispose();
    }

    [Fact]
    public async Task UnderAPidsLimitTheNodeBoundsItsThreadPoolServesLoadAndFollowsTheLimitWhenItChanges()
    {
        var node = _cluster[1];
        Assert.Contains($"{node.Pid}",
            await File.ReadAllTextAsync(Path.Combine(_group.Directory, "cgroup.procs")));

        // The bound, said once the node has started: the limit less the tasks outside the pool and the reserve.
        await Poll.UntilAsync(TimeSpan.FromSeconds(10), "the thread pool's bound logged",
            () => Task.FromResult(node.ReadLog().Contains("thread pool bounded")));
        var bounds = Bounds(node.ReadLog());
        Assert.True(bounds.Count > 0, node.Tail());
        var said = bounds[0];
        output.WriteLine($"bounded: {said}");
        Assert.Equal(Limit, said.Limit);
        Assert.Equal(8 + 2 * Environment.ProcessorCount, said.Reserve);
        Assert.InRange(said.Others, 10, 60);
        Assert.Equal(Limit - said.Others - said.Reserve, said.Left);
        Assert.Equal(said.Left, said.Bound);
        // Fewer than 256 workers left: a warning.
        Assert.Matches(@"WRN \[[^\]]*\] thread pool bounded", node.ReadLog());

        // Load: 32 P1 clients for 8 s. Every acknowledged image is stored; the limit refuses the node nothing.
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<byte[]>();
        var until = DateTime.UtcNow.AddSeconds(8);
        await Task.WhenAll(Enumerable.Range(0, 32).Select(client => Task.Run(async () =>
        {
            for (var n = 0; DateTime.UtcNow < until; n++)
            {
                var image = Images.Png(100_000 + client * 10_000 + n);
                if (await Wire.SendP1Async(Host, image)) acknowledged.Add(image);
            }
        })));
        output.WriteLine($"{acknowledged.Count} images acknowledged under the limit; tasks in the group {_group.Current}");
        Assert.True(acknowledged.Count > 100, node.Tail());
        Assert.True(node.IsRunning, node.Tail());
        Assert.Equal(0, _group.Refusals);
        var listed = (await Wire.ListedAsync(Host) ?? []).ToHashSet();
        Assert.All(acknowledged, image => Assert.Contains(Images.Md5(image), listed));
        Assert.DoesNotContain("out of memory", node.ReadLog(), StringComparison.OrdinalIgnoreCase);

        // The limit removed while the node runs (as `docker update --pids-limit -1` does): the pool's maximum is back
        // within a read or two (every 5 s).
        _group.Limit = null;
        await Poll.UntilAsync(TimeSpan.FromSeconds(15), "the bound lifted",
            () => Task.FromResult(node.ReadLog().Contains("thread pool unbounded: this node's control group has no pids " +
                "limit any more: back to 32767 worker threads")));
        // Set again, higher: the new limit bounds the pool, as at the start.
        const int raised = 160;
        _group.Limit = raised;
        await Poll.UntilAsync(TimeSpan.FromSeconds(15), "the new limit's bound logged",
            () => Task.FromResult(Bounds(node.ReadLog()).Any(b => b.Limit == raised)));
        var again = Bounds(node.ReadLog()).First(b => b.Limit == raised);
        output.WriteLine($"bounded again: {again}");
        Assert.Equal(raised - again.Others - again.Reserve, again.Bound);
        Assert.True(node.IsRunning, node.Tail());
        Assert.Equal(0, _group.Refusals);
    }

    /// <summary>Every "thread pool bounded" line of a node's log, in order, as src/ActorImages.Node/Config/ThreadBudget.cs
    /// words it (Fit): the limit, what it leaves for the pool, the tasks in use outside the pool, the reserve and the
    /// bound.</summary>
    private static List<(int Limit, int Left, int Others, int Reserve, int Bound)> Bounds(string log) =>
        Regex.Matches(log, @"thread pool bounded: the pids limit of this node's control group \((\d+) tasks\) " +
                @"leaves (\d+) for the thread pool \((\d+) in use outside it, (\d+) kept for threads made on demand\): " +
                @"at most (\d+) worker threads instead of 32767")
            .Select(m =>
            {
                int Group(int i) => int.Parse(m.Groups[i].Value, System.Globalization.CultureInfo.InvariantCulture);
                return (Group(1), Group(2), Group(3), Group(4), Group(5));
            })
            .ToList();
}
