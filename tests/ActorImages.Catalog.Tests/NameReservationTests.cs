namespace ActorImages.Catalog.Tests;

public sealed class NameReservationTests
{
    private static readonly DateTimeOffset Second = new(2026, 12, 2, 6, 24, 23, 500, TimeSpan.Zero);

    [Fact]
    public async Task FirstImageOfASecondGetsTheBareNameThenNumberedSuffixes()
    {
        await using var db = await Fresh.DatabaseAsync();

        var names = await db.Catalog.ReserveNamesAsync([(Second, "jpg"), (Second.AddMilliseconds(100), ".JPG"), (Second, "png")]);
        var more = await db.Catalog.ReserveNamesAsync([(Second, "jpg")]);

        Assert.Equal(["2026-12-02/062423.jpg", "2026-12-02/062423-1.jpg", "2026-12-02/062423.png"], names);
        Assert.Equal(["2026-12-02/062423-2.jpg"], more);
    }

    [Fact]
    public async Task AReservationsAsynchronousCommitStaysInItsTransaction()
    {
        await using var db = await Fresh.DatabaseAsync();
        // One pooled connection: the reservation and the check below run on the same server session.
        await using var single = Npgsql.NpgsqlDataSource.Create(db.DataSource.ConnectionString + ";Maximum Pool Size=1");

        await new CatalogStore(single).ReserveNamesAsync([(Second, "jpg")]);
        await using var show = single.CreateCommand("SHOW synchronous_commit");

        Assert.Equal("on", await show.ExecuteScalarAsync());
        Assert.Equal(["2026-12-02/062423-1.jpg"], await new CatalogStore(single).ReserveNamesAsync([(Second, "jpg")]));
    }

    [Fact]
    public async Task NamesFollowUtcWhateverTheOffsetOfTheTime()
    {
        await using var db = await Fresh.DatabaseAsync();

        var names = await db.Catalog.ReserveNamesAsync([(new DateTimeOffset(2026, 12, 2, 1, 0, 0, TimeSpan.FromHours(3)), "gif")]);

        Assert.Equal(["2026-12-01/220000.gif"], names);
    }

    [Fact]
    public async Task NamesStayUniqueUnderConcurrentReservationsFromSeveralConnections()
    {
        await using var db = await Fresh.DatabaseAsync();
        // Several nodes reserving names of the same second at once (issue: two images, one name).
        await using var other = await CatalogDatabase.OpenAsync(db.DataSource.ConnectionString);

        var tasks = Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            var store = t % 2 == 0 ? db.Catalog : other.Catalog;
            var mine = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                mine.AddRange(await store.ReserveNamesAsync([(Second, "jpg")]));
            }

            return mine;
        }));
        var all = (await Task.WhenAll(tasks)).SelectMany(n => n).ToList();

        var expected = new[] { "2026-12-02/062423.jpg" }
            .Concat(Enumerable.Range(1, 19).Select(i => $"2026-12-02/062423-{i}.jpg"));
        Assert.Equal(expected.Order(), all.Order());
    }

    [Fact]
    public async Task ConcurrentBatchesOfManySecondsNeverShareAName()
    {
        await using var db = await Fresh.DatabaseAsync();
        var requests = Enumerable.Range(0, 30).Select(i => (Second.AddSeconds(i % 3), i % 2 == 0 ? "jpg" : "png")).ToList();

        var batches = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => db.Catalog.ReserveNamesAsync(requests))));

        var all = batches.SelectMany(b => b).ToList();
        Assert.Equal(180, all.Count);
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("j/pg")]
    [InlineData("jp g")]
    public async Task AnExtensionThatIsNotLettersAndDigitsIsRefused(string extension)
    {
        await using var db = await Fresh.DatabaseAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => db.Catalog.ReserveNamesAsync([(Second, extension)]));
    }
}
