using Npgsql;

namespace ActorImages.Catalog;

/// <summary>
/// The PostgreSQL database that holds the catalog and the tracker state (docs/design.md, "The catalog"): one
/// <see cref="NpgsqlDataSource"/> (a connection pool) per process, migrated to the current schema on open.
/// </summary>
public sealed class CatalogDatabase : IAsyncDisposable
{
    private CatalogDatabase(NpgsqlDataSource dataSource)
    {
        DataSource = dataSource;
        Catalog = new CatalogStore(dataSource);
        Tracker = new TrackerStore(dataSource);
    }

    /// <summary>The connection pool; owned by this object.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The catalog of stored images.</summary>
    public CatalogStore Catalog { get; }

    /// <summary>The tracker state (written only by the tracker singleton).</summary>
    public TrackerStore Tracker { get; }

    /// <summary>Connects and applies the migrations the database lacks (<see cref="Migrations.ApplyAsync"/>).</summary>
    /// <param name="urlOrConnectionString">As <c>ACTORIMAGES_DB_URL</c> gives it: a <c>postgresql://</c> URL or an
    /// Npgsql connection string (<see cref="DatabaseUrl"/>).</param>
    /// <param name="cancellationToken">Cancels connecting and migrating.</param>
    /// <returns>The open database.</returns>
    /// <exception cref="ArgumentException">The URL or connection string is malformed.</exception>
    /// <exception cref="NpgsqlException">The database cannot be reached or a migration failed.</exception>
    /// <exception cref="InvalidOperationException">The schema in the database does not match this build's migrations.</exception>
    public static async Task<CatalogDatabase> OpenAsync(string urlOrConnectionString, CancellationToken cancellationToken = default)
    {
        var builder = new NpgsqlDataSourceBuilder(DatabaseUrl.ToConnectionString(urlOrConnectionString));
        builder.ConnectionStringBuilder.ApplicationName ??= "actorimages";
        // Every query here is a short index lookup: JIT compilation costs tens of milliseconds and saves none.
        builder.ConnectionStringBuilder.Options ??= "-c jit=off";
        // The same few dozen statements run all day: prepared on each pooled connection once used 5 times there
        // (Npgsql's default AutoPrepareMinUsages; only MaxAutoPrepare is set here), they skip parsing and planning (a
        // page of LST <offset> spent 1.3 ms of its ~7 ms planning at a million entries).
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0) builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        var dataSource = builder.Build();
        try
        {
            await Migrations.ApplyAsync(dataSource, cancellationToken).ConfigureAwait(false);
            return new CatalogDatabase(dataSource);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes every pooled connection.</summary>
    /// <returns>A task that completes when the pool is closed.</returns>
    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
