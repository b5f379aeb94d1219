using ActorImages.Storage;
using System.Security.Cryptography;

namespace ActorImages.Cli;

/// <summary>
/// Local image files: recognising them by their first bytes (the formats a node accepts, docs/protocols.md P1:
/// JPEG, PNG, GIF, BMP, WebP, TIFF, HEIC, HEIF, AVIF; the node's own <see cref="ImageFormats.Sniff"/>), collecting them
/// from files and folders, and their MD5. Blocking file I/O;
/// every <see cref="IOException"/> becomes a <see cref="CliFailure.LocalFile"/> naming the path.
/// </summary>
internal static class ImageFiles
{
    /// <summary>Bytes needed to recognise every supported format: 12.</summary>
    public const int Head = ImageFormats.SniffBytes;

    /// <summary>
    /// The usual extension of the image format <paramref name="head"/> starts with (<c>jpg</c>, <c>png</c>,
    /// <c>gif</c>, <c>bmp</c>, <c>webp</c>, <c>tif</c>, <c>heic</c>, <c>heif</c>, <c>avif</c>), or null if it is none of
    /// them.
    /// </summary>
    public static string? Extension(ReadOnlySpan<byte> head) => ImageFormats.Sniff(head)?.Extension();

    /// <summary>Whether the file at <paramref name="path"/> starts like an image.</summary>
    public static bool IsImage(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            Span<byte> head = stackalloc byte[Head];
            int n = stream.ReadAtLeast(head, Head, throwOnEndOfStream: false);
            return Extension(head[..n]) is not null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot read: {path} ({e.Message})", e);
        }
    }

    /// <summary>
    /// The image files named by <paramref name="paths"/>, in order: a file as given, a folder's image files
    /// recursively in path order (hidden files and files that are not images skipped).
    /// </summary>
    /// <param name="paths">Files and folders as given on the command line.</param>
    /// <param name="filesMustBeImages">Whether a file named directly must be an image (<c>send</c>: a node discards
    /// anything else without telling the sender, docs/protocols.md P1).</param>
    public static List<string> Collect(IEnumerable<string> paths, bool filesMustBeImages)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(ImagesIn(path));
            }
            else if (File.Exists(path))
            {
                if (Size(path) == 0) throw CliFailure.LocalFile("empty file: " + path);
                if (filesMustBeImages && !IsImage(path))
                {
                    throw CliFailure.LocalFile("not an image (JPEG, PNG, GIF, BMP, WebP, TIFF, HEIC, HEIF or AVIF): " + path);
                }
                files.Add(path);
            }
            else
            {
                throw CliFailure.LocalFile("no such file or folder: " + path);
            }
        }
        return files;
    }

    /// <summary>The image files below <paramref name="folder"/>, recursively, in ordinal path order.</summary>
    public static List<string> ImagesIn(string folder)
    {
        try
        {
            return Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden })
                .Where(p => !Path.GetFileName(p).StartsWith('.'))
                .Order(StringComparer.Ordinal)
                .Where(IsImage)
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot read folder: {folder} ({e.Message})", e);
        }
    }

    /// <summary>The size of the file at <paramref name="path"/> in bytes.</summary>
    public static long Size(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot read: {path} ({e.Message})", e);
        }
    }

    /// <summary>Lowercase hex MD5 of the file at <paramref name="path"/>, read as a stream.</summary>
    public static string Md5(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Convert.ToHexStringLower(MD5.HashData(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliFailure.LocalFile($"cannot read: {path} ({e.Message})", e);
        }
    }
}
