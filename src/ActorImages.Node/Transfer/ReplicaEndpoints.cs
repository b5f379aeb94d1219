using System.Net;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace ActorImages.Node.Transfer;

/// <summary>
/// The node side of <see cref="ReplicaTransfer"/>: <c>PUT /internal/replicas/{path}?sha256=</c> stores a copy
/// (hashing while it streams in, fsync, no overwrite), <c>GET /internal/blobs/{path}?sha256=</c> serves one, hashed
/// while it is sent (<see cref="LocalCopies"/>: a copy up to 1 MiB is checked first and a bad one answers 404, a
/// larger one holds back its last chunk and a bad one aborts the response), <c>HEAD /internal/blobs/{path}?sha256=</c>
/// answers whether a sound copy is here (200, else 404; read and hashed whole, a bad copy handled as a read handles
/// it), <c>DELETE /internal/replicas/{path}?sha256=</c> removes an aborted one.
/// Only a member may call them, since a copy is stored without its header being read again
/// (<see cref="BlobStore.NewCopyWriter"/>) and an open route would let anyone store bytes under a path of their choosing
/// (README, "Limits and security"). With the cluster certificate they are served on the replica port only, to callers
/// that presented the cluster certificate in the TLS handshake (<see cref="ReplicaChannel"/>); on any other port they
/// answer 404. Without one (remoting plain TCP) they are served on the HTTP port and need the cluster token header
/// when the node has a token; a node without one answers only callers on a loopback address (a local cluster of
/// <c>bin/cluster</c> or of the tests). A refused caller gets 401 (wrong or missing token) or 403 (no token set, not
/// loopback, or no cluster certificate).
/// </summary>
public static class ReplicaEndpoints
{
    /// <summary>Maps the internal routes.</summary>
    /// <param name="app">The HTTP application.</param>
    /// <returns>The same application.</returns>
    public static WebApplication MapReplicaEndpoints(this WebApplication app)
    {
        // All three are singletons: taken once here, not looked up again for every replica copy.
        var node = app.Services.GetRequiredService<NodeSettings>();
        var blobs = app.Services.GetRequiredService<BlobStore>();
        var tls = app.Services.GetRequiredService<RemoteTls>();
        if (!tls.Enabled && node.AdminToken.Length == 0 && !(IPAddress.TryParse(node.Host, out var own) && IPAddress.IsLoopback(own)))
            app.Logger.LogWarning("no cluster token (ACTORIMAGES_ADMIN_TOKEN): this node's internal replica routes answer "
                + "loopback callers only, so nodes on other hosts cannot copy images to it; set the same token on every node");
        var group = app.MapGroup("/internal").AddEndpointFilter(async (ctx, next) =>
        {
            if (tls.Enabled)
            {
                // Kestrel ended every handshake on the replica port without the cluster certificate; checked here again
                // so that no other listener and no change of Kestrel's options ever serves these routes.
                var connection = ctx.HttpContext.Connection;
                if (connection.LocalPort != node.ReplicaPort) return Results.NotFound();
                if (!tls.Accepts(connection.ClientCertificate))
                    return Results.Text("internal routes need the cluster certificate", statusCode: StatusCodes.Status403Forbidden);
            }
            else if (node.AdminToken.Length == 0)
            {
                if (ctx.HttpContext.Connection.RemoteIpAddress is not { } caller
                    || !IPAddress.IsLoopback(caller.IsIPv4MappedToIPv6 ? caller.MapToIPv4() : caller))
                    return Results.Text("this node has no cluster token (ACTORIMAGES_ADMIN_TOKEN): internal routes answer loopback callers only",
                        statusCode: StatusCodes.Status403Forbidden);
            }
            else if (!CryptographicEquals(ctx.HttpContext.Request.Headers[ReplicaTransfer.TokenHeader].ToString(), node.AdminToken))
            {
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }
            try
            {
                // A path the store refuses (absolute, '..', inside the temp folder) is the caller's error, not a 500.
                blobs.Resolve(ctx.HttpContext.GetRouteValue("path") as string ?? "");
            }
            catch (ArgumentException e)
            {
                return Results.BadRequest(e.Message);
            }
            return await next(ctx);
        });
        group.MapPut("/replicas/{**path}", StoreAsync);
        group.MapGet("/blobs/{**path}", ServeAsync);
        group.MapMethods("/blobs/{**path}", [HttpMethods.Head], CheckAsync);
        group.MapDelete("/replicas/{**path}", Delete);
        return app;
    }

    private static async Task<IResult> StoreAsync(string path, string sha256, HttpContext ctx, BlobStore blobs)
    {
        ctx.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
        if (await blobs.HoldsCopyAsync(path, sha256, ctx.RequestAborted) is { } same)
            return same ? Results.Ok() : Results.Conflict("another file has that path");
        await using var writer = blobs.NewCopyWriter();
        try
        {
            var reader = ctx.Request.BodyReader;
            while (true)
            {
                var read = await reader.ReadAsync(ctx.RequestAborted);
                foreach (var segment in read.Buffer) await writer.WriteAsync(segment, ctx.RequestAborted);
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) break;
            }
            var staged = await writer.FinishAsync(ctx.Request.ContentLength, ctx.RequestAborted);
            if (staged.Sha256 != sha256) return Results.BadRequest("sha256 mismatch");
            await blobs.CommitAsync(staged, path, ctx.RequestAborted);
            return Results.Created();
        }
        catch (InvalidImageException e)
        {
            return Results.BadRequest(e.Message);
        }
        catch (IOException e) when (BlobStore.IsDiskFull(e))
        {
            // 507, not a 500: the pushing node names the cause and moves to the next member in rendezvous order.
            return Results.Text("no space left on this node's disk", statusCode: StatusCodes.Status507InsufficientStorage);
        }
    }

    private static async Task<IResult> ServeAsync(string path, string sha256, LocalCopies copies, CancellationToken ct)
    {
        // A corrupt copy is never served whole: the caller goes to the next replica, the scrub restores this one.
        var content = await copies.OpenAsync(path, size: null, sha256, ct);
        return content is null ? Results.NotFound()
            : new CheckedContentResult(content, content.Length, "application/octet-stream", path);
    }

    private static async Task<IResult> CheckAsync(string path, string sha256, LocalCopies copies, CancellationToken ct)
    {
        // Read as a download reads it, so a bad copy is deleted and reported to the scrub here too (LocalCopies).
        var content = await copies.OpenAsync(path, size: null, sha256, ct);
        if (content is null) return Results.NotFound();
        await using (content)
        {
            try
            {
                await content.CopyToAsync(Stream.Null, ct);
            }
            catch (CorruptBlobException)
            {
                return Results.NotFound();
            }
        }
        return Results.Ok();
    }

    private static async Task<IResult> Delete(string path, string sha256, HttpContext ctx, BlobStore blobs)
    {
        if (await blobs.HoldsCopyAsync(path, sha256, ctx.RequestAborted) is not { } same) return Results.NoContent();
        if (!same) return Results.Conflict();
        blobs.Delete(path);
        return Results.NoContent();
    }

    /// <summary>Compares two tokens in constant time.</summary>
    /// <param name="a">One token.</param>
    /// <param name="b">The other.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool CryptographicEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));
}
