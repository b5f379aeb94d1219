using ActorImages.Node.Config;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>The connection bounds against the open-file limit (src/ActorImages.Node/Config/DescriptorBudget.cs;
/// README "Limits and security"). A node started under a low limit is DescriptorLimitTest (Faults).</summary>
public sealed class DescriptorBudgetTest
{
    private static readonly NodeSettings Defaults = NodeSettings.Create(NodeConfig.Load(new Dictionary<string, string>()));

    [Fact]
    public void TheDefaultBoundsFitALimitOfTwentyThousandAndAreKept()
    {
        Assert.Equal((4096, 4096, 4096, 64),
            (Defaults.P1MaxConnections, Defaults.P4MaxConnections, Defaults.HttpMaxConnections, Defaults.ReplicaConnectionsPerPeer));
        Assert.Same(Defaults, DescriptorBudget.Fit(Defaults, 20_000, out var warning));
        Assert.Null(warning);
        Assert.Same(Defaults, DescriptorBudget.Fit(Defaults, long.MaxValue, out _));
    }

    [Fact]
    public void UnderALowLimitEachBoundIsLoweredInProportionAndTheWarningSaysWhatToRaise()
    {
        var settings = Defaults with { P1MaxConnections = 2000, P4MaxConnections = 1000, HttpMaxConnections = 1000 };
        // 1,024 descriptors: 512 kept back, 512 for 4,000 configured connections.
        var fitted = DescriptorBudget.Fit(settings, 1024, out var warning);
        Assert.Equal((256, 128, 128), (fitted.P1MaxConnections, fitted.P4MaxConnections, fitted.HttpMaxConnections));
        Assert.Equal(settings with { P1MaxConnections = 256, P4MaxConnections = 128, HttpMaxConnections = 128, ReplicaConnectionsPerPeer = 8 },
            fitted);
        Assert.Equal("the limit of open files (1024) leaves 512 descriptors for connections, fewer than the 4000 the " +
                     "bounds allow (P1 2000, P4 1000, HTTP 1000): lowered to P1 256, P4 128, HTTP 128, and the replica channel's " +
                     "connections to each node from 64 to 8; raise the limit " +
                     "(ulimit -n, the container's nofile) to at least 5333 to keep them", warning);
        // What the warning asks for is enough.
        Assert.Same(settings, DescriptorBudget.Fit(settings, 5333, out _));
    }

    [Fact]
    public void AQuarterOfALargeLimitIsKeptBackAndNoBoundFallsBelowSixteen()
    {
        Assert.Equal(7500, DescriptorBudget.ForConnections(10_000));
        Assert.Equal(0, DescriptorBudget.ForConnections(300));
        var fitted = DescriptorBudget.Fit(Defaults, 300, out var warning);
        Assert.Equal((16, 16, 16, 4),
            (fitted.P1MaxConnections, fitted.P4MaxConnections, fitted.HttpMaxConnections, fitted.ReplicaConnectionsPerPeer));
        Assert.NotNull(warning);
    }

    [Fact]
    public void ThisProcesssLimitIsReadFromProc()
    {
        var line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        Assert.Equal(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], DescriptorBudget.OpenFileLimit().ToString());
    }
}
