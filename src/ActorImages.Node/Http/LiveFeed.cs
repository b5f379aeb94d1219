using System.Text;
using System.Text.Json;
using ActorImages.Catalog;
using ActorImages.Node.Catalog;
using ActorImages.Node.Cluster;

namespace ActorImages.Node.Http;

/// <summary>
/// <c>GET /api/events</c>: Server-Sent Events for the web viewer (README "HTTP API"): <c>cluster</c> at once and every
/// 2 s (the fields of <c>/api/cluster</c> plus <c>stats</c>), <c>image-stored</c> with an entry's JSON for each image
/// stored anywhere in the cluster from the moment of connecting, and a keep-alive comment after 15 s of silence.
/// </summary>
public static class LiveFeed
{
    private static readonly TimeSpan ClusterEvery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>Streams events until the client goes.</summary>
    /// <param name="ctx">The request.</param>
    /// <param name="feed">The node-local feed of committed entries.</param>
    /// <param name="membership">The membership view.</param>
    /// <param name="totals">The catalog's totals, read once per 2 s for every subscriber together.</param>
    /// <returns>A task that completes when the client disconnects.</returns>
    public static async Task StreamAsync(HttpContext ctx, ImageFeed feed, Membership membership, SharedTotals totals)
    {
        var ct = ctx.RequestAborted;
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
        using var subscription = feed.Subscribe();
        var lastWrite = DateTime.UtcNow;
        var nextCluster = DateTime.MinValue;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (DateTime.UtcNow >= nextCluster)
                {
                    object? stats = null;
                    try
                    {
                        stats = CatalogApi.StatsJson(await totals.GetAsync().WaitAsync(ct));
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // the catalog is unreachable: the view still shows the membership
                    }
                    var cluster = JsonSerializer.SerializeToNode(NodeApi.ClusterJson(membership.Current))!.AsObject();
                    cluster["stats"] = JsonSerializer.SerializeToNode(stats);
                    await WriteAsync(ctx, "cluster", cluster.ToJsonString(), ct);
                    nextCluster = DateTime.UtcNow + ClusterEvery;
                    lastWrite = DateTime.UtcNow;
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                wait.CancelAfter(nextCluster - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
                try
                {
                    while (await subscription.Reader.WaitToReadAsync(wait.Token))
                        while (subscription.Reader.TryRead(out var entry))
                        {
                            await WriteAsync(ctx, "image-stored", JsonSerializer.Serialize(CatalogApi.EntryJson(entry)), ct);
                            lastWrite = DateTime.UtcNow;
                        }
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                }
                if (DateTime.UtcNow - lastWrite > KeepAlive)
                {
                    await ctx.Response.WriteAsync(": keep-alive\n\n", ct);
                    await ctx.Response.Body.FlushAsync(ct);
                    lastWrite = DateTime.UtcNow;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }

    private static async Task WriteAsync(HttpContext ctx, string name, string data, CancellationToken ct)
    {
        var text = new StringBuilder().Append("event: ").Append(name).Append("\ndata: ").Append(data).Append("\n\n");
        await ctx.Response.WriteAsync(text.ToString(), ct);
        await ctx.Response.Body.FlushAsync(ct);
    }
}

/// <summary>
/// The catalog's totals (<see cref="CatalogStore.StatsAsync"/>) as the live feed sends them: read at most once per 2 s
/// for all of a node's subscribers, however many there are (up to <c>http.max-connections</c>), instead of one query
/// per subscriber every 2 s on the pool that upload commits use.
/// </summary>
/// <param name="catalog">The catalog.</param>
public sealed class SharedTotals(CatalogStore catalog)
{
    /// <summary>How old a read may be when it is handed out again: 2 s, the feed's <c>cluster</c> interval.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);

    private readonly object _gate = new();
    private Task<CatalogStats>? _read;
    private long _started;

    /// <summary>The latest read of the totals, or a new one when it is older than <see cref="MaxAge"/> or failed.</summary>
    /// <returns>The totals; faulted with the catalog's exception when it could not be read.</returns>
    public Task<CatalogStats> GetAsync()
    {
        lock (_gate)
        {
            if (_read is null || _read.IsFaulted || System.Diagnostics.Stopwatch.GetElapsedTime(_started) >= MaxAge)
            {
                _started = System.Diagnostics.Stopwatch.GetTimestamp();
                _read = catalog.StatsAsync(CancellationToken.None);
            }
            return _read;
        }
    }
}
