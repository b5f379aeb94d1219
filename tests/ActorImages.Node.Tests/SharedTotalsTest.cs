using ActorImages.Catalog;
using ActorImages.Node.Http;
using ActorImages.Testing;
using Xunit;

namespace ActorImages.Node.Tests;

/// <summary>The live feed's totals: one catalog read per interval for every subscriber together, on a real
/// catalog.</summary>
public sealed class SharedTotalsTest
{
    [Fact]
    public async Task SubscribersShareOneReadPerIntervalAndANewOneFollowsIt()
    {
        await using var db = await CatalogDatabase.OpenAsync(await PostgresServer.CreateDatabaseUrlAsync(), CancellationToken.None);
        var totals = new SharedTotals(db.Catalog);
        var first = totals.GetAsync();
        var many = Enumerable.Range(0, 100).Select(_ => totals.GetAsync()).ToList();
        Assert.All(many, t => Assert.Same(first, t));
        Assert.Equal(0, (await first).Images);

        await Task.Delay(SharedTotals.MaxAge + TimeSpan.FromMilliseconds(100));
        var next = totals.GetAsync();
        Assert.NotSame(first, next);
        Assert.Equal(0, (await next).Images);
    }
}
