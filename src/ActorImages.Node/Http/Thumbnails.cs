using System.Collections.Concurrent;
using ActorImages.Messages;
using ActorImages.Node.Config;
using ActorImages.Node.Transfer;
using ActorImages.Storage;
// What one request gets (Thumbnails.GetAsync): the JPEG, or why there is none for good, or why there is none now.
using Rendered = (string? Path, string? Undecodable, string? Unavailable);

namespace ActorImages.Node.Http;

/// <summary>What <see cref="Thumbnails"/> makes of an image: a JPEG of at most a given longest side.</summary>
public enum Rendition
{
    /// <summary>The gallery's thumbnail, at most <see cref="Thumbnailer.MaxSide"/> (256) pixels:
    /// <c>data-dir/thumbnails/&lt;md5&gt;.jpg</c>.</summary>
    Thumbnail,

    /// <summary>The viewer's preview of an image whose format browsers do not show (TIFF, HEIC, HEIF), at most
    /// <see cref="Thumbnailer.PreviewSide"/> (2048) pixels: <c>data-dir/previews/&lt;md5&gt;.jpg</c>.</summary>
    Preview,
}

/// <summary>What each <see cref="Rendition"/> is, in one place.</summary>
public static class Renditions
{
    /// <summary>The rendition's name in paths of the API, metrics and messages: <c>thumbnail</c> or <c>preview</c>.</summary>
    /// <param name="kind">The rendition.</param>
    /// <returns>The lowercase name.</returns>
    public static string Name(this Rendition kind) => kind == Rendition.Preview ? "preview" : "thumbnail";

    /// <summary>The longest side of the rendition, pixels: <see cref="Thumbnailer.MaxSide"/> or
    /// <see cref="Thumbnailer.PreviewSide"/>.</summary>
    /// <param name="kind">The rendition.</param>
    /// <returns>Pixels.</returns>
    public static int Side(this Rendition kind) => kind == Rendition.Preview ? Thumbnailer.PreviewSide : Thumbnailer.MaxSide;

    /// <summary>Where the rendition of <paramref name="md5"/> is kept in <paramref name="blobs"/>' data dir.</summary>
    /// <param name="kind">The rendition.</param>
    /// <param name="blobs">The node's blob store.</param>
    /// <param name="md5">Lowercase hex MD5.</param>
    /// <returns>The JPEG's path (the file may not exist).</returns>
    public static string Path(this Rendition kind, BlobStore blobs, string md5) =>
        kind == Rendition.Preview ? blobs.PreviewPath(md5) : blobs.ThumbnailPath(md5);
}

/// <summary>
/// Thumbnails and previews on first request, never on the upload's path (README "Web viewer"): made once per image
/// and <see cref="Rendition"/> from this node's copy, or from a holder's bytes when it has none, and kept in the data
/// dir. At most one is made at a time (one may take up to the pixel limit × 4 bytes of memory, Thumbnailer's remarks);
/// an image that does not decode is remembered, not decoded again on every request.
/// </summary>
public sealed class Thumbnails
{
    /// <summary>Previews being made or waiting for the worker, at most: 2. A preview of a phone's 12-megapixel HEIC takes a second or two, and every viewer showing the latest
    /// image asks for the preview of each HEIC that arrives; past this bound a request for another preview is answered
    /// at once as unavailable (HTTP 503, ask again) instead of queueing, so that a burst of uploads does not pile up
    /// minutes of previews in front of the gallery's thumbnails.</summary>
    public const int MaxPreviewsPending = 2;

    private int _previewsPending;
    private readonly BlobStore _blobs;
    private readonly ImageReader _reader;
    private readonly NodeSettings _settings;
    private readonly ILogger<Thumbnails> _log;
    private readonly NodeMetrics _metrics;
    private readonly SemaphoreSlim _workers = new(1);
    private readonly ConcurrentDictionary<(string Md5, Rendition Kind), string> _failed = new();
    private readonly ConcurrentDictionary<(string Md5, Rendition Kind), Lazy<Task<Rendered>>> _making = new();

    /// <summary>Creates the service.</summary>
    /// <param name="blobs">This node's blob store.</param>
    /// <param name="reader">Opens images held elsewhere.</param>
    /// <param name="settings">Node settings (pixel limit).</param>
    /// <param name="log">Where an image that does not decode is reported, once per image and rendition.</param>
    /// <param name="metrics">Where each making is timed (<c>actorimages_rendition_seconds</c>).</param>
    public Thumbnails(BlobStore blobs, ImageReader reader, NodeSettings settings, ILogger<Thumbnails> log,
        NodeMetrics metrics)
    {
        _blobs = blobs;
        _reader = reader;
        _settings = settings;
        _log = log;
        _metrics = metrics;
    }

    /// <summary>
    /// Whether thumbnails are made of images of <paramref name="mediaType"/>: of HEIC, HEIF and AVIF only when libheif's
    /// renderer is installed on this node (<see cref="Thumbnailer.Decodes"/>, <see cref="HeifThumbnailer"/>); true for
    /// the other formats and for a media type the node does not name, which the decoder is left to judge. The API's
    /// <c>thumbnail</c> field (README "HTTP API").
    /// </summary>
    /// <param name="mediaType">a catalog entry's media type, e.g. <c>image/heic</c></param>
    /// <returns>false when a request for the thumbnail is answered 404 without looking at the bytes</returns>
    public static bool MadeOf(string mediaType) =>
        ImageFormats.FromMediaType(mediaType) is not { } format || Thumbnailer.Decodes(format);

    /// <summary>The thumbnail or preview file of <paramref name="entry"/>, made now if needed.</summary>
    /// <param name="entry">The catalog entry.</param>
    /// <param name="kind">A thumbnail or a preview.</param>
    /// <param name="ct">Cancellation of the wait (the making goes on for the next request).</param>
    /// <returns>The JPEG file's path; else null and either why the image does not decode (for good: its bytes never
    /// change) or why there is none now (no holder answered, the copy broke off, the machine refused the renderer a
    /// thread, a process or memory, or too many previews pending: the next request tries again).</returns>
    public async Task<Rendered> GetAsync(CatalogEntry entry, Rendition kind, CancellationToken ct)
    {
        if (!MadeOf(entry.MediaType))
            return (null, $"{entry.MediaType} is not decoded here", null); // without fetching the bytes to find out
        var path = kind.Path(_blobs, entry.Md5);
        if (File.Exists(path)) return (path, null, null);
        var key = (entry.Md5, kind);
        if (_failed.TryGetValue(key, out var reason)) return (null, reason, null);
        var mine = new Lazy<Task<Rendered>>(() => Start(entry, kind, path));
        var making = _making.GetOrAdd(key, mine);
        // The making leaves the table when it ends, whoever still waits for it: a request that gave up (a gallery
        // scrolled past) must not leave its entry behind for the life of the process.
        if (ReferenceEquals(making, mine))
            _ = mine.Value.ContinueWith(_ => _making.TryRemove(KeyValuePair.Create(key, mine)), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return await making.Value.WaitAsync(ct);
    }

    /// <summary>Starts one making; a preview first takes one of the pending places (MakeAsync gives it back), or is
    /// answered at once as unavailable. Called once per making (the table's lazy), so places and makings pair up.</summary>
    private Task<Rendered> Start(CatalogEntry entry, Rendition kind, string target)
    {
        if (kind == Rendition.Preview && Interlocked.Increment(ref _previewsPending) > MaxPreviewsPending)
        {
            Interlocked.Decrement(ref _previewsPending);
            return Task.FromResult<Rendered>((null, null, $"busy making {MaxPreviewsPending} other previews; ask again in a few seconds"));
        }
        return MakeAsync(entry, kind, target);
    }

    /// <summary>Makes one rendition, after the one before; a preview gives back the pending place it took.</summary>
    /// <returns>As <see cref="GetAsync"/>.</returns>
    private async Task<Rendered> MakeAsync(CatalogEntry entry, Rendition kind, string target)
    {
        await _workers.WaitAsync();
        string? temp = null;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = "unavailable";
        try
        {
            // Made a moment ago by a making that ended while this one was being started.
            if (File.Exists(target))
            {
                outcome = "made";
                return (target, null, null);
            }
            // This node's copy only when its SHA-256 is right, as every other read checks it: a corrupt copy would be
            // remembered as undecodable or, worse, rendered and served for a year (immutable). Else the reader's
            // path: it reports the bad copy to the scrub and reads another holder's.
            var local = _blobs.Exists(entry.Path) ? _blobs.Resolve(entry.Path) : null;
            var source = local is not null && await BlobVerifier.MatchesAsync(local, entry.Sha256, CancellationToken.None)
                ? local : null;
            if (source is null)
            {
                temp = _blobs.NewTempPath(".thumbsrc");
                // A bad local copy over 1 MiB is found bad by the reader only at its end (it streams), and discarded
                // then: the second read goes to another holder.
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await using var image = await _reader.OpenAsync(entry, CancellationToken.None);
                        await using (var file = File.Create(temp)) await image.Content.CopyToAsync(file);
                        break;
                    }
                    catch (IOException) when (attempt == 1 && local is not null)
                    {
                    }
                }
                source = temp;
            }
            await Task.Run(() => Thumbnailer.Write(source, target, _settings.MaxImagePixels, kind.Side()));
            outcome = "made";
            return (target, null, null);
        }
        catch (InvalidImageException e)
        {
            // Bounded: at most one entry per image that failed; an md5's bytes never change. Said once per image and
            // rendition (a renderer that fails on every HEIC, say one without its HEVC decoder, shows here).
            if (_failed.Count < 100_000) _failed[(entry.Md5, kind)] = e.Message;
            _log.LogInformation("No {Rendition} of {Md5} ({MediaType}): {Reason}", kind.Name(), entry.Md5, entry.MediaType,
                e.Message);
            outcome = "undecodable";
            return (null, e.Message, null);
        }
        catch (ImageUnavailableException)
        {
            return (null, null, "no node holding the image answered");
        }
        catch (IOException e)
        {
            // The copy broke off or was found corrupt while it was fetched (ImageReader), or the machine refused the
            // renderer a thread, a process or memory (HeifThumbnailer): no thumbnail now, the next request tries again.
            _log.LogWarning("No {Rendition} of {Md5} now: {Reason}", kind.Name(), entry.Md5, e.Message);
            return (null, null, e.Message);
        }
        finally
        {
            if (temp is not null) File.Delete(temp);
            _workers.Release();
            if (kind == Rendition.Preview) Interlocked.Decrement(ref _previewsPending);
            _metrics.Rendition(kind.Name(), outcome, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }
}
