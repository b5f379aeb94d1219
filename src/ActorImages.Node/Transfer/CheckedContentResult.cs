using ActorImages.Storage;

namespace ActorImages.Node.Transfer;

/// <summary>
/// An HTTP response of image bytes that are checked while they are read (<see cref="LocalCopies"/>,
/// <see cref="VerifyingStream"/>): <c>Content-Length</c> is the catalog's size, and when reading fails — a corrupt
/// copy found at its end, whose last chunk is then never written, or a holder that broke off — the connection is
/// aborted, so the client sees a truncated body and a reset, never a complete response with wrong bytes
/// (<c>GET /api/images/{md5}/content</c>, <c>GET /internal/blobs/{path}</c>). The stream is disposed afterwards.
/// </summary>
/// <param name="content">Exactly <paramref name="size"/> bytes, checked as they are read.</param>
/// <param name="size">The size in bytes, sent as <c>Content-Length</c>.</param>
/// <param name="contentType">The media type.</param>
/// <param name="what">Names the image in the log line of an aborted response.</param>
public sealed class CheckedContentResult(Stream content, long size, string contentType, string what) : IResult
{
    /// <summary>Bytes read and written at a time.</summary>
    private const int ChunkBytes = 64 * 1024;

    /// <inheritdoc />
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        await using var _ = content;
        var response = httpContext.Response;
        response.ContentType = contentType;
        response.ContentLength = size;
        var ct = httpContext.RequestAborted;
        var buffer = new byte[ChunkBytes];
        long sent = 0;
        while (true)
        {
            int n;
            try
            {
                n = await content.ReadAsync(buffer, ct);
            }
            catch (IOException e)
            {
                httpContext.RequestServices.GetRequiredService<ILogger<CheckedContentResult>>().LogWarning(
                    "HTTP {Path}: reading {What} failed after {Sent} of {Size} bytes ({Error}); aborting the response",
                    httpContext.Request.Path.Value, what, sent, size, e.Message);
                httpContext.Abort();
                return;
            }
            if (n == 0) return;
            await response.Body.WriteAsync(buffer.AsMemory(0, n), ct);
            sent += n;
        }
    }
}
