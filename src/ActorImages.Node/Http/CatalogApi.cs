using System.Globalization;
using System.Text.Json;
using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Catalog;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Ingest;
using ActorImages.Node.Tracker;
using ActorImages.Node.Transfer;
using ActorImages.Protocols;

namespace ActorImages.Node.Http;

/// <summary>
/// The catalog over HTTP (README "HTTP API"): pages of entries newest first, one entry, its bytes and thumbnail, the
/// HTTP upload (the same <see cref="Ingestion"/> path as every protocol), totals, the tracker's peers, the live
/// Server-Sent Events feed and the admin route that announces a full stop. Errors are
/// <c>{"status":&lt;code&gt;,"error":"&lt;text&gt;"}</c>.
/// </summary>
public static class CatalogApi
{
    /// <summary>Maps the routes on the HTTP port.</summary>
    /// <param name="app">The application.</param>
    /// <param name="host">The host pattern of the HTTP port, e.g. <c>*:8080</c>.</param>
    /// <returns>The same application.</returns>
    public static WebApplication MapCatalogApi(this WebApplication app, string host)
    {
        var metrics = app.Services.GetRequiredService<NodeMetrics>();
        // The reads of a page and of one entry are timed to their response's end (actorimages_read_seconds).
        app.Use(async (ctx, next) =>
        {
            if (!HttpMethods.IsGet(ctx.Request.Method)
                || ctx.GetEndpoint() is not RouteEndpoint { RoutePattern.RawText: "/api/images" or "/api/images/{md5}" } read)
            {
                await next(ctx);
                return;
            }
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            await next(ctx);
            metrics.Read("GET " + read.RoutePattern.RawText, started);
        });
        var api = app.MapGroup("/api").RequireHost(host);
        api.MapGet("/images", ListAsync);
        api.MapGet("/images/{md5}", GetAsync);
        api.MapGet("/images/{md5}/content", ContentAsync);
        foreach (var kind in Enum.GetValues<Rendition>()) // /images/{md5}/thumbnail and /images/{md5}/preview
        {
            api.MapGet($"/images/{{md5}}/{kind.Name()}", (string md5, CatalogStore catalog, Thumbnails thumbnails,
                HttpContext ctx, CancellationToken ct) => RenditionAsync(md5, kind, catalog, thumbnails, ctx, ct));
        }
        api.MapPost("/images", UploadAsync);
        api.MapGet("/stats", async (CatalogStore catalog, CancellationToken ct) => Results.Json(StatsJson(await catalog.StatsAsync(ct))));
        api.MapGet("/tracker/peers", (LstView view) => Results.Json(view.Peers.Select(p => new
        {
            ip = p.Ip, port = p.Port, images = p.Images.Select(i => new { md5 = i.Md5, name = i.Name }),
            registeredAt = p.RegisteredAt,
        })));
        api.MapGet("/events", LiveFeed.StreamAsync);
        api.MapPost("/cluster/stopping", (HttpContext ctx, NodeSettings settings, StopAnnouncement stop) =>
        {
            if (!AdminAuthorized(ctx, settings)) return Error(StatusCodes.Status401Unauthorized, "admin token required");
            stop.Announce();
            return Results.Json(new { status = 202, error = "stop announced" }, statusCode: StatusCodes.Status202Accepted);
        });
        return app;
    }

    /// <summary>Whether the request carries the admin token as <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    /// <param name="ctx">The request.</param>
    /// <param name="settings">Node settings.</param>
    /// <returns>False when the node has no token or the request another one.</returns>
    public static bool AdminAuthorized(HttpContext ctx, NodeSettings settings)
    {
        var header = ctx.Request.Headers.Authorization.ToString();
        return settings.AdminToken.Length > 0 && header.StartsWith("Bearer ", StringComparison.Ordinal)
            && Transfer.ReplicaEndpoints.CryptographicEquals(header["Bearer ".Length..], settings.AdminToken);
    }

    /// <summary>The JSON of one entry: id, md5, sha256, size (bytes), mediaType, width, height, filename, uploader,
    /// protocol (<c>P1_TCP</c>, <c>P2_WEBSOCKET</c>, <c>HTTP</c>, <c>IMPORT</c>), receivedAt (ISO-8601), nodes (hosts),
    /// thumbnail (false when no thumbnail is made of its format, <see cref="Thumbnails.MadeOf"/>).</summary>
    /// <param name="e">The entry.</param>
    /// <returns>An object for System.Text.Json.</returns>
    public static object EntryJson(CatalogEntry e) => new
    {
        id = e.Id.ToString(CultureInfo.InvariantCulture), md5 = e.Md5, sha256 = e.Sha256, size = e.Size,
        mediaType = e.MediaType, width = e.Width, height = e.Height, filename = e.Filename, uploader = e.Uploader,
        protocol = ProtocolName(e.Protocol), receivedAt = e.ReceivedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
        nodes = e.Hosts.ToList(), thumbnail = Thumbnails.MadeOf(e.MediaType),
    };

    /// <summary>The body of <c>GET /api/stats</c> (and the <c>stats</c> of the live feed's <c>cluster</c> event):
    /// <c>{"images":…,"bytes":…,"perHost":{"&lt;host&gt;":&lt;images&gt;},"bytesByHost":{"&lt;host&gt;":&lt;bytes&gt;}}</c>.</summary>
    /// <param name="stats">The catalog totals.</param>
    /// <returns>An object for System.Text.Json.</returns>
    public static object StatsJson(CatalogStats stats) => new
    {
        images = stats.Images, bytes = stats.Bytes,
        perHost = stats.PerHost.ToDictionary(h => h.Key, h => h.Value.Images),
        bytesByHost = stats.PerHost.ToDictionary(h => h.Key, h => h.Value.Bytes),
    };

    /// <summary>The API's name of a protocol.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <returns><c>P1_TCP</c>, <c>P2_WEBSOCKET</c>, <c>HTTP</c> or <c>IMPORT</c>.</returns>
    public static string ProtocolName(SourceProtocol protocol) => protocol switch
    {
        SourceProtocol.P1Tcp => "P1_TCP",
        SourceProtocol.P2WebSocket => "P2_WEBSOCKET",
        SourceProtocol.Http => "HTTP",
        _ => "IMPORT",
    };

    /// <summary>The protocol an API name stands for.</summary>
    /// <param name="name"><c>P1_TCP</c>, <c>P2_WEBSOCKET</c>, <c>HTTP</c> or <c>IMPORT</c>.</param>
    /// <returns>The protocol, or null for an unknown name.</returns>
    public static SourceProtocol? ProtocolFromName(string name) => name switch
    {
        "P1_TCP" => SourceProtocol.P1Tcp,
        "P2_WEBSOCKET" => SourceProtocol.P2WebSocket,
        "HTTP" => SourceProtocol.Http,
        "IMPORT" => SourceProtocol.Import,
        _ => null,
    };

    private static IResult Error(int status, string message) =>
        Results.Json(new { status, error = message }, statusCode: status);

    private static async Task<IResult> ListAsync(HttpContext ctx, CatalogStore catalog, NodeSettings settings, CancellationToken ct)
    {
        var query = ctx.Request.Query;
        var limit = settings.DefaultPageSize;
        if (query.TryGetValue("limit", out var l) && (!int.TryParse(l, out limit) || limit < 1 || limit > settings.MaxPageSize))
            return Error(400, $"limit must be an integer 1..{settings.MaxPageSize}");
        long? before = null;
        if (query.TryGetValue("after", out var a) && a.ToString().Length > 0)
        {
            if (!long.TryParse(a, out var cursor)) return Error(400, $"unknown cursor: {a}");
            before = cursor;
        }
        // One query per page; an empty page after a cursor is the end or a cursor the catalog never had (README, HTTP API).
        var page = await catalog.NewestAsync(limit, before, ct);
        if (page.Count == 0 && before is { } asked && await catalog.FindByIdAsync(asked, ct) is null)
            return Error(400, $"unknown cursor: {a}");
        var next = page.Count == limit ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null;
        return Results.Json(new { images = page.Select(EntryJson), next });
    }

    private static async Task<IResult> GetAsync(string md5, CatalogStore catalog, CancellationToken ct)
    {
        if (!P4Request.IsMd5(md5)) return Error(400, "not an md5: " + md5);
        return await catalog.FindByMd5Async(md5.ToLowerInvariant(), ct) is { } entry
            ? Results.Json(EntryJson(entry)) : Error(404, "no image with md5 " + md5);
    }

    private static async Task<IResult> ContentAsync(string md5, ImageReader reader, CancellationToken ct)
    {
        if (!P4Request.IsMd5(md5)) return Error(400, "not an md5: " + md5);
        try
        {
            var image = await reader.OpenByMd5Async(md5.ToLowerInvariant(), ct);
            if (image is null) return Error(404, "no image with md5 " + md5);
            // Hashed while it is sent: a corrupt copy aborts the response before its last chunk (CheckedContentResult).
            return new CheckedContentResult(image.Content, image.Entry.Size, image.Entry.MediaType, image.Entry.Md5);
        }
        catch (ImageUnavailableException e)
        {
            return Error(503, e.Message);
        }
    }

    /// <summary><c>GET /api/images/{md5}/thumbnail</c> and <c>…/preview</c> (README "HTTP API"): the JPEG, cacheable
    /// forever; 404 with the reason when the image does not decode; 503 when no holder answered, the copy broke off, the
    /// machine refused the renderer a thread, a process or memory, or, for a preview, when
    /// <see cref="Thumbnails.MaxPreviewsPending"/> are pending.</summary>
    private static async Task<IResult> RenditionAsync(string md5, Rendition kind, CatalogStore catalog, Thumbnails thumbnails,
        HttpContext ctx, CancellationToken ct)
    {
        if (!P4Request.IsMd5(md5)) return Error(400, "not an md5: " + md5);
        var entry = await catalog.FindByMd5Async(md5.ToLowerInvariant(), ct);
        if (entry is null) return Error(404, "no image with md5 " + md5);
        var (file, undecodable, unavailable) = await thumbnails.GetAsync(entry, kind, ct);
        var what = $"no {kind.Name()}: ";
        // The rendition does not exist and never will (a format not decoded here, bytes no decoder reads): 404 with the
        // reason; none now (no holder answered, the renderer refused a thread, too many previews pending): 503, try again.
        if (undecodable is not null) return Error(404, what + undecodable);
        if (file is null) return Error(503, what + unavailable);
        ctx.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
        return Results.File(file, "image/jpeg");
    }

    private static async Task<IResult> UploadAsync(HttpContext ctx, Ingestion ingestion, NodeMetrics metrics, NodeSettings settings, CancellationToken ct)
    {
        var query = ctx.Request.Query;
        var ip = ctx.Connection.RemoteIpAddress?.ToString() ?? "?";
        var filename = query["filename"].ToString();
        if (filename.Length > 0) filename = Path.GetFileName(filename.Replace('\\', '/'));
        var uploader = query["uploader"].ToString() is { Length: > 0 } u ? u : "http:" + ip;
        var info = new UploadInfo(filename.Length > 0 ? filename : null, uploader, SourceProtocol.Http);
        if (query.ContainsKey("importKey") || query.ContainsKey("receivedAt"))
        {
            // An import keeps the source's time and is made idempotent by its key (actorimages import): admin only.
            if (!AdminAuthorized(ctx, settings)) return Error(401, "importKey and receivedAt need the admin token");
            if (!DateTimeOffset.TryParse(query["receivedAt"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                return Error(400, "receivedAt must be an ISO-8601 time");
            var key = query["importKey"].ToString();
            if (key.Length is 0 or > 512) return Error(400, "importKey must be 1..512 characters");
            var protocol = query["protocol"].ToString() is { Length: > 0 } p && ProtocolFromName(p) is { } named ? named : SourceProtocol.Import;
            info = info with { ReceivedAt = at.ToUniversalTime(), ImportKey = key, Protocol = protocol };
        }
        var started = DateTime.UtcNow;
        IngestResult result;
        try
        {
            result = await ingestion.IngestAsync(ctx.Request.BodyReader, ctx.Request.ContentLength, toEnd: true, info, ct);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own body limit (max-image-bytes) stops a body sent without Content-Length, or the body is
            // malformed: the client's fault, not a 500.
            var tooLarge = e.StatusCode == StatusCodes.Status413PayloadTooLarge;
            metrics.Upload("http", tooLarge ? "toolarge" : "invalid");
            return tooLarge ? Error(413, $"image larger than {settings.MaxImageBytes} bytes") : Error(400, e.Message);
        }
        if (result.Entry is { } entry)
        {
            metrics.Stored("http", DateTime.UtcNow - started);
            ctx.Response.Headers.Location = "/api/images/" + entry.Md5;
            return Results.Json(EntryJson(entry), statusCode: 201);
        }
        metrics.Upload("http", result.Failure.ToString()!.ToLowerInvariant());
        return result.Failure switch
        {
            IngestFailure.TooLarge => Error(413, result.Reason),
            IngestFailure.Unavailable => Error(503, result.Reason),
            IngestFailure.NoSpace => Error(507, result.Reason),
            _ => Error(400, result.Reason),
        };
    }
}
