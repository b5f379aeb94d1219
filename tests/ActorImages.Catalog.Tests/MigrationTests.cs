using ActorImages.Testing;
using Npgsql;

namespace ActorImages.Catalog.Tests;

public sealed class MigrationTests
{
    [Fact]
    public async Task OpeningTwiceAppliesNothingTheSecondTimeAndKeepsTheData()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        await using (var first = await CatalogDatabase.OpenAsync(connectionString))
        {
            await Fresh.CommitAsync(first.Catalog, "kept");
        }

        await using var second = await CatalogDatabase.OpenAsync(connectionString);

        Assert.Empty(await Migrations.ApplyAsync(second.DataSource));
        Assert.Equal(1, await second.Catalog.CountAsync());
        Assert.Equal(Migrations.All.Select(m => m.Version), await AppliedAsync(second.DataSource));
    }

    [Fact]
    public async Task NodesOpeningAtOnceMigrateOnceAndAllSucceed()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();

        var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => CatalogDatabase.OpenAsync(connectionString))));

        try
        {
            Assert.Equal(Migrations.All.Select(m => m.Version), await AppliedAsync(opened[0].DataSource));
            Assert.Equal(0, await opened[3].Catalog.CountAsync());
        }
        finally
        {
            foreach (var db in opened)
            {
                await db.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AMigrationChangedAfterItWasAppliedIsRefused()
    {
        await using var db = await Fresh.DatabaseAsync();
        await using (var tamper = db.DataSource.CreateCommand("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1"))
        {
            await tamper.ExecuteNonQueryAsync();
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => Migrations.ApplyAsync(db.DataSource));
    }

    [Fact]
    public async Task TheServerUrlAndAConnectionStringOpenTheSameWay()
    {
        var url = await PostgresServer.CreateDatabaseUrlAsync();

        await using var db = await CatalogDatabase.OpenAsync(url);

        Assert.Equal(0, await db.Catalog.CountAsync());
    }

    [Fact]
    public void MigrationsAreEmbeddedInVersionOrder()
    {
        Assert.NotEmpty(Migrations.All);
        Assert.Equal(1, Migrations.All[0].Version);
        Assert.Equal(Migrations.All.Select(m => m.Version).Order(), Migrations.All.Select(m => m.Version));
    }

    private static async Task<List<int>> AppliedAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT version FROM schema_migrations ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }
}
