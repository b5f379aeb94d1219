using ActorImages.Testing;
using Xunit;

namespace ActorImages.Cluster.Tests;

/// <summary>
/// One real cluster shared by the tests of one class (<c>IClassFixture</c>): started once before the first test,
/// stopped after the last. Each class has its own subnet 127.0.X.0/24.
/// </summary>
/// <param name="subnet">The third address byte.</param>
/// <param name="count">How many nodes.</param>
/// <param name="extra">More <c>ACTORIMAGES_*</c> variables for every node.</param>
public abstract class ClusterFixture(int subnet, int count, IReadOnlyDictionary<string, string>? extra = null) : IAsyncLifetime
{
    /// <summary>The running cluster.</summary>
    public TestCluster Cluster { get; private set; } = null!;

    /// <inheritdoc />
    public virtual async Task InitializeAsync() => Cluster = await TestCluster.StartAsync(subnet, count, extra);

    /// <inheritdoc />
    public virtual async Task DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
    }
}
