using System.Text.RegularExpressions;

namespace ActorImages.Storage;

/// <summary>
/// The images of one node on its local disk, laid out as the seed promised (docs/protocols.md, P1 "Storage"):
/// <code>
/// dataDir/
///   .tmp/upload-&lt;guid&gt;.part    uploads in progress, never visible to readers
///   YYYY-MM-DD/HHMMSS.ext          committed images, UTC date and time of receipt (see BlobPaths)
///   YYYY-MM-DD/HHMMSS-1.ext        the second image of the same second, then -2, ... never overwritten
///   thumbnails/&lt;md5&gt;.jpg          the gallery's thumbnails (see Thumbnailer)
///   previews/&lt;md5&gt;.jpg            the viewer's previews of what browsers do not show (see Thumbnailer)
/// </code>
/// An upload goes <see cref="NewWriter"/> → <see cref="BlobWriter.WriteAsync"/> → <see cref="BlobWriter.FinishAsync"/>
/// → <see cref="CommitAsync"/>; only a committed image is visible under the data directory, so a truncated or
/// refused upload never is. Thread-safe; the async methods do their file work on the caller's thread (as
/// <see cref="BlobWriter"/> does, whose remarks say why) and return completed tasks.
/// </summary>
public sealed partial class BlobStore
{
    /// <summary>The folder of uploads in progress, under the data directory.</summary>
    public const string TempFolder = ".tmp";

    /// <summary>The folder of the gallery's thumbnails, under the data directory.</summary>
    public const string ThumbnailFolder = "thumbnails";

    /// <summary>The folder of the viewer's previews, under the data directory.</summary>
    public const string PreviewFolder = "previews";

    private readonly long _maxImageBytes;
    private readonly long _maxPixels;
    /// <summary>Folders whose name this process has fsynced in their parent (one a day for uploads).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _durableFolders = new(StringComparer.Ordinal);

    /// <summary>
    /// Opens (and creates when missing) the store under <paramref name="dataDir"/>, with its <c>.tmp</c> folder.
    /// </summary>
    /// <param name="dataDir">the node's data directory</param>
    /// <param name="maxImageBytes">the largest accepted image in bytes (docs/protocols.md, P1
    /// <c>max-image-bytes</c>, 64 MiB by default), at least 1</param>
    /// <param name="maxPixels">the largest accepted width × height in pixels (issue 9: 100 megapixels by default),
    /// at least 1</param>
    /// <exception cref="ArgumentOutOfRangeException">a limit is below 1</exception>
    /// <exception cref="IOException">a folder cannot be created</exception>
    public BlobStore(string dataDir, long maxImageBytes, long maxPixels = ImageProbe.DefaultMaxPixels)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxImageBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        DataDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir));
        TempDir = Path.Combine(DataDir, TempFolder);
        _maxImageBytes = maxImageBytes;
        _maxPixels = maxPixels;
        Directory.CreateDirectory(TempDir);
    }

    /// <summary>The data directory, absolute, without a trailing separator.</summary>
    public string DataDir { get; }

    /// <summary>The folder of uploads in progress: <c>dataDir/.tmp</c>.</summary>
    public string TempDir { get; }

    /// <summary>The largest accepted image in bytes.</summary>
    public long MaxImageBytes => _maxImageBytes;

    /// <summary>The largest accepted width × height in pixels.</summary>
    public long MaxPixels => _maxPixels;

    /// <summary>
    /// Deletes everything under <c>dataDir/.tmp</c>: uploads that a crash or a kill interrupted. Call it at start,
    /// before the first <see cref="NewWriter"/>, since it would delete the temp files of running uploads too.
    /// </summary>
    /// <returns>how many entries of <c>.tmp</c> were removed (a folder counts once)</returns>
    /// <exception cref="IOException">listing or deleting failed</exception>
    public int RemoveLeftoverTempFiles()
    {
        int removed = 0;
        foreach (var entry in new DirectoryInfo(TempDir).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo folder)
            {
                folder.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
            removed++;
        }
        return removed;
    }

    /// <summary>Whether <paramref name="e"/>, from this store's file work, says the disk is full: ENOSPC (28) on
    /// Linux, whose .NET <see cref="IOException"/> carries the errno as its HResult; ERROR_DISK_FULL or
    /// ERROR_HANDLE_DISK_FULL on Windows.</summary>
    /// <param name="e">a failure of a write, flush, fsync or link</param>
    /// <returns>true for a full disk</returns>
    public static bool IsDiskFull(IOException e) =>
        e.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    /// <summary>A writer for one upload, limited to <see cref="MaxImageBytes"/> and <see cref="MaxPixels"/>. Its temp
    /// file under <c>.tmp</c> is only created by its first byte.</summary>
    /// <returns>a fresh writer; dispose it</returns>
    public BlobWriter NewWriter() => new(TempDir, _maxImageBytes, _maxPixels);

    /// <summary>
    /// A writer for a copy of an image already in the catalog (a replica pushed or fetched from another node): the
    /// same limits and temp file as <see cref="NewWriter"/>, but its <see cref="StagedBlob"/> has only the SHA-256 the
    /// caller must compare with the catalog's — no MD5 (empty) and no header read (width and height 0), since both
    /// were taken when the image was first stored and a copy with the catalog's SHA-256 has the same bytes. Saves an
    /// MD5 pass and a re-read of the file per copy (docs/benchmarks.md, "Re-replication, done in 1e09ae6").
    /// </summary>
    /// <returns>a fresh writer; dispose it</returns>
    public BlobWriter NewCopyWriter() => new(TempDir, _maxImageBytes, _maxPixels, copy: true);

    /// <summary>
    /// Makes a staged upload durable and visible under <paramref name="relativePath"/>, never overwriting: the temp
    /// file is fsynced (<see cref="BlobWriter.FinishAsync"/> does not), then hard-linked to the name, which fails
    /// atomically when the name exists, even against a concurrent commit of the same name (on a file system without
    /// hard links it is copied to a new file, whose creation refuses an existing name too). The day folder is created
    /// when missing; the folder is fsynced before this returns. Then the temp name is unlinked, unless
    /// <paramref name="keepTempFile"/>.
    /// </summary>
    /// <param name="staged">a blob from <see cref="BlobWriter.FinishAsync"/> of this store, committed at most once</param>
    /// <param name="relativePath">the name, <c>/</c>-separated, e.g. <c>2026-12-02/062423-1.jpg</c> (see
    /// <see cref="BlobPaths"/>)</param>
    /// <param name="cancellationToken">cancels before the fsync</param>
    /// <param name="keepTempFile">true leaves the temp name for readers that still open it (the replica pushes of an
    /// upload, which run beside this commit); its writer deletes it when disposed</param>
    /// <returns>the absolute path of the stored image</returns>
    /// <exception cref="IOException">the name is taken (the staged blob stays in <c>.tmp</c>, so the caller can try
    /// the next suffix), the temp file is gone (already committed or aborted), or fsyncing or linking failed</exception>
    /// <exception cref="ArgumentException"><paramref name="relativePath"/> is refused by <see cref="Resolve"/>, or
    /// <paramref name="staged"/> is not in this store's <c>.tmp</c></exception>
    public Task<string> CommitAsync(StagedBlob staged, string relativePath,
        CancellationToken cancellationToken = default, bool keepTempFile = false) =>
        PlaceAsync(staged, relativePath, replace: false, keepTempFile, cancellationToken);

    /// <summary>
    /// Puts a checked copy in place of whatever is under <paramref name="relativePath"/> (a corrupt copy, another
    /// file, or nothing), as the scrub restores a bad copy: the temp file is fsynced, then renamed over the name —
    /// atomic, so a reader that opens the name gets the old file or the new one, never a partial one, and a reader
    /// that has the old one open keeps reading it — and the folder is fsynced before this returns. Uploads and
    /// replica copies use <see cref="CommitAsync"/>, which never overwrites.
    /// </summary>
    /// <param name="staged">a blob from <see cref="BlobWriter.FinishAsync"/> of this store, placed at most once;
    /// its temp name is gone afterwards</param>
    /// <param name="relativePath">as for <see cref="CommitAsync"/></param>
    /// <param name="cancellationToken">cancels before the fsync</param>
    /// <returns>the absolute path of the stored image</returns>
    /// <exception cref="IOException">the temp file is gone, or fsyncing or renaming failed</exception>
    /// <exception cref="ArgumentException">as for <see cref="CommitAsync"/></exception>
    public Task<string> ReplaceAsync(StagedBlob staged, string relativePath, CancellationToken cancellationToken = default) =>
        PlaceAsync(staged, relativePath, replace: true, keepTempFile: false, cancellationToken);

    private Task<string> PlaceAsync(StagedBlob staged, string relativePath, bool replace, bool keepTempFile,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(staged);
        var target = Resolve(relativePath);
        if (!string.Equals(Path.GetDirectoryName(Path.GetFullPath(staged.TempFile)), TempDir, StringComparison.Ordinal))
        {
            throw new ArgumentException($"not a staged blob of this store: {staged.TempFile}", nameof(staged));
        }
        // On the caller's thread, as BlobWriter does its file work (its remarks say why).
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            NativeFiles.Fsync(staged.TempFile);
            var folder = Path.GetDirectoryName(target)!;
            // The folder's own name must survive a crash too, or the image inside it would not. Not only "if this call
            // created it": another upload may have created it a moment ago and not yet fsynced its parent, and an image
            // placed here meanwhile would be acknowledged inside a folder a crash could lose. So every folder's parent
            // is fsynced by this process before the first image in it is (a folder left by a run that crashed
            // included), and again whenever the folder had to be made (removed from outside meanwhile).
            var made = !Directory.Exists(folder);
            if (made || !_durableFolders.ContainsKey(folder))
            {
                if (made) Directory.CreateDirectory(folder);
                NativeFiles.FsyncDirectory(Path.GetDirectoryName(folder)!);
                _durableFolders.TryAdd(folder, true);
            }
            if (replace)
            {
                // rename(2), which replaces the target atomically.
                File.Move(staged.TempFile, target, overwrite: true);
                NativeFiles.FsyncDirectory(folder);
                return Task.FromResult(target);
            }
            NativeFiles.LinkNew(staged.TempFile, target);
            NativeFiles.FsyncDirectory(folder);
            try
            {
                if (!keepTempFile)
                {
                    File.Delete(staged.TempFile);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The image is stored and durable; a leftover temp file only costs space until the next start.
            }
            return Task.FromResult(target);
        }
        catch (Exception e)
        {
            return Task.FromException<string>(e);
        }
    }

    /// <summary>
    /// The file of a stored image.
    /// </summary>
    /// <param name="relativePath">a path relative to <see cref="DataDir"/>, <c>/</c>-separated</param>
    /// <returns>the absolute file; it may not exist</returns>
    /// <exception cref="ArgumentException">the path is empty, absolute, holds a NUL, a backslash, an empty,
    /// <c>.</c> or <c>..</c> segment, or names something in <c>.tmp</c> (uploads in progress are never visible) or
    /// not strictly inside <see cref="DataDir"/></exception>
    public string Resolve(string relativePath)
    {
        if (string.IsNullOrWhiteSpace(relativePath))
        {
            throw new ArgumentException("empty relative path", nameof(relativePath));
        }
        // Stored names are '/'-separated everywhere; a backslash is either a Windows path or an attempt to look
        // like one, and a NUL ends the name at the system call.
        if (relativePath.AsSpan().IndexOfAny('\0', '\\') >= 0)
        {
            throw new ArgumentException($"path with a NUL or a backslash: {relativePath}", nameof(relativePath));
        }
        if (relativePath.StartsWith('/') || Path.IsPathRooted(relativePath))
        {
            throw new ArgumentException($"absolute path: {relativePath}", nameof(relativePath));
        }
        var segments = relativePath.Split('/');
        if (segments.Any(segment => segment is "" or "." or ".."))
        {
            throw new ArgumentException($"path with an empty, '.' or '..' segment: {relativePath}",
                nameof(relativePath));
        }
        if (segments[0] == TempFolder)
        {
            throw new ArgumentException($"path inside {TempFolder}: {relativePath}", nameof(relativePath));
        }
        var resolved = Path.GetFullPath(Path.Combine(DataDir, relativePath));
        if (!resolved.StartsWith(DataDir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"path outside the data directory: {relativePath}", nameof(relativePath));
        }
        return resolved;
    }

    /// <summary>Whether a stored image exists.</summary>
    /// <param name="relativePath">as for <see cref="Resolve"/></param>
    /// <exception cref="ArgumentException">as <see cref="Resolve"/></exception>
    public bool Exists(string relativePath) => File.Exists(Resolve(relativePath));

    /// <summary>
    /// Whether the file under <paramref name="relativePath"/> is the copy whose SHA-256 is <paramref name="sha256"/>:
    /// how a copy that finds a file already under its name (a replica pushed twice, a repair whose record was lost,
    /// an aborted copy to delete) tells its own bytes from another file's. Reads the file whole (<see cref="BlobVerifier"/>).
    /// </summary>
    /// <param name="relativePath">as for <see cref="Resolve"/></param>
    /// <param name="sha256">the copy's lowercase or uppercase hex SHA-256</param>
    /// <param name="cancellationToken">stops between reads</param>
    /// <returns>null when there is no such file; true when it has that SHA-256 — its last-write time is then set to now,
    /// because the caller is about to count it as a replica: the orphan sweep spares files written within its grace,
    /// and an old leftover accepted as a copy must not be swept before the catalog lists this node for it; false when
    /// it is another file</returns>
    /// <exception cref="ArgumentException">as <see cref="Resolve"/></exception>
    /// <exception cref="IOException">the file exists but cannot be read</exception>
    public async Task<bool?> HoldsCopyAsync(string relativePath, string sha256, CancellationToken cancellationToken = default)
    {
        var file = Resolve(relativePath);
        if (!File.Exists(file)) return null;
        if (!await BlobVerifier.MatchesAsync(file, sha256, cancellationToken).ConfigureAwait(false)) return false;
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow);
        return true;
    }

    /// <summary>
    /// Opens a stored image for a sequential read whose asynchronous reads complete on the caller's thread
    /// (<see cref="BlobReadStream"/>): read it in chunks of 64 KiB or more. A concurrent <see cref="Delete"/> does not
    /// disturb a reader that already has it open.
    /// </summary>
    /// <param name="relativePath">as for <see cref="Resolve"/></param>
    /// <returns>the open file; dispose it</returns>
    /// <exception cref="ArgumentException">as <see cref="Resolve"/></exception>
    /// <exception cref="FileNotFoundException">no such image</exception>
    public BlobReadStream OpenRead(string relativePath) =>
        BlobReadStream.Open(Resolve(relativePath), FileShare.Read | FileShare.Delete);

    /// <summary>Deletes a stored image.</summary>
    /// <param name="relativePath">as for <see cref="Resolve"/></param>
    /// <returns>true if a file was deleted, false if there was none</returns>
    /// <exception cref="ArgumentException">as <see cref="Resolve"/></exception>
    /// <exception cref="IOException">deleting failed</exception>
    public bool Delete(string relativePath)
    {
        var file = Resolve(relativePath);
        if (!File.Exists(file))
        {
            return false;
        }
        File.Delete(file);
        return true;
    }

    /// <summary>
    /// Where the thumbnail of the image with <paramref name="md5"/> lives: <c>dataDir/thumbnails/&lt;md5&gt;.jpg</c>.
    /// One per md5, since the thumbnail depends on the bytes only. The file may not exist;
    /// <see cref="Thumbnailer.Write"/> makes it (and the folder).
    /// </summary>
    /// <param name="md5">lowercase hex MD5, 32 characters</param>
    /// <exception cref="ArgumentException"><paramref name="md5"/> is not 32 lowercase hex characters (so no name
    /// can leave the folder)</exception>
    public string ThumbnailPath(string md5) => RenditionPath(ThumbnailFolder, md5);

    /// <summary>
    /// Where the preview of the image with <paramref name="md5"/> lives: <c>dataDir/previews/&lt;md5&gt;.jpg</c>, made
    /// like its thumbnail (<see cref="Thumbnailer.PreviewSide"/>). The file may not exist.
    /// </summary>
    /// <param name="md5">lowercase hex MD5, 32 characters</param>
    /// <exception cref="ArgumentException">as <see cref="ThumbnailPath"/></exception>
    public string PreviewPath(string md5) => RenditionPath(PreviewFolder, md5);

    private string RenditionPath(string folder, string md5)
    {
        if (md5 is null || !Md5Pattern().IsMatch(md5))
        {
            throw new ArgumentException($"not a lowercase hex md5: {md5}", nameof(md5));
        }
        return Path.Combine(DataDir, folder, md5 + ".jpg");
    }

    /// <summary>
    /// A fresh, not yet existing file name under <c>dataDir/.tmp</c>, for a file the node builds and then moves or
    /// deletes (e.g. an image fetched from another node to make its thumbnail). Whatever a crash leaves there goes at
    /// the next <see cref="RemoveLeftoverTempFiles"/>.
    /// </summary>
    /// <param name="suffix">the end of the name, e.g. <c>.source</c>; no separator</param>
    /// <exception cref="ArgumentException"><paramref name="suffix"/> holds a separator or a NUL</exception>
    public string NewTempPath(string suffix)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        if (suffix.AsSpan().IndexOfAny('/', '\\', '\0') >= 0)
        {
            throw new ArgumentException($"suffix with a separator or a NUL: {suffix}", nameof(suffix));
        }
        return Path.Combine(TempDir, $"work-{Guid.NewGuid():N}{suffix}");
    }

    [GeneratedRegex(@"\A[0-9a-f]{32}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Md5Pattern();
}
