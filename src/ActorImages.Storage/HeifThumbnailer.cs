using System.Diagnostics;
using System.Text;

namespace ActorImages.Storage;

/// <summary>
/// Decodes HEIC, HEIF and AVIF for the gallery's thumbnails and the viewer's previews (README "What gets in"), which
/// SkiaSharp's Linux build cannot: libheif's <c>heif-thumbnailer</c> (Debian package <c>heif-thumbnailer</c>; HEVC
/// through libde265, AV1 through dav1d or libaom) renders the image to a PNG in a child process, which
/// <see cref="Thumbnailer"/> then scales and encodes as it does every other format.
/// </summary>
/// <remarks>
/// <para>A child process, not libheif in the node: the HEVC and AV1 decoders parse bytes any client can send, and a
/// crash or a runaway allocation in them ends that process, not the node. The child runs under <c>prlimit</c>
/// (util-linux) with its data segment bounded by <see cref="DataLimitBytes"/> — the thumbnailer's own bound, the pixel
/// limit × 4 bytes, plus what the decoder needs to start — its output file by <see cref="FileLimitBytes"/>, and is
/// killed after <see cref="TimeoutMs"/>, with none of the node's environment but where programs and libraries are
/// (<see cref="KeptVariables"/>): the node's secrets stay in the node.</para>
/// <para>What is decoded: a phone's HEIC carries a thumbnail item of 320 or 512 pixels beside the primary image; when
/// it is at least as large as what is asked for (<see cref="Thumbnailer.MaxSide"/> for a thumbnail) on its longest
/// side, that item alone is decoded (a few ms and MB where the 12-megapixel primary takes about a second and 8 bytes a
/// pixel); else the primary image (always for a preview of <see cref="Thumbnailer.PreviewSide"/>). Either is asked
/// for at its own size (<c>-s</c> its longest side; <c>-p</c> for the primary, since the program otherwise takes the
/// first thumbnail item whatever its size), so that <c>heif-thumbnailer</c>'s nearest-neighbour scaling never runs and
/// the image is scaled with Thumbnailer's filter. libheif applies the item's <c>irot</c>, <c>imir</c> and <c>clap</c>
/// (ISO/IEC 23008-12, 6.5), so the PNG is upright as shown.</para>
/// </remarks>
public static class HeifThumbnailer
{
    /// <summary>The decoding program, found on <c>PATH</c>: <c>heif-thumbnailer</c> (libheif's example for desktop
    /// thumbnailers; usage <c>heif-thumbnailer [-s size] [-p] input output.png</c>).</summary>
    public const string Program = "heif-thumbnailer";

    /// <summary>How long a decode may take, in ms, before the child is killed: 60,000 (the 12-megapixel primary image
    /// of testdata's gradient-thumbnail.heic, decoded and written as PNG, takes about 1.6 s here).</summary>
    public const int TimeoutMs = 60_000;

    /// <summary>What the decoder needs on top of the image's pixels, in bytes: 32 MiB (a 640 × 427 HEIC peaks at 8 MB;
    /// libde265's and dav1d's tables and buffers).</summary>
    private const long BaseBytes = 32L << 20;

    /// <summary>How long, in ms, a lookup that found the tools missing stands before the next one: 5,000. Once found they
    /// are kept; until then a node picks up an install of <see cref="Program"/> within this time, without a restart.</summary>
    public const int LookupRetryMs = 5_000;

    private static readonly Lock ToolsGate = new();
    private static Tools? _tools;
    private static long? _lookedUpAt;

    /// <summary>Whether <see cref="Program"/> and <c>prlimit</c> are both on <c>PATH</c>: without them HEIC, HEIF and AVIF
    /// get no thumbnail (<see cref="Thumbnailer.Decodes"/>). Found once, kept; missing, looked up again at most every
    /// <see cref="LookupRetryMs"/>.</summary>
    public static bool IsAvailable => FoundTools is not null;

    private static Tools? FoundTools
    {
        get
        {
            if (Volatile.Read(ref _tools) is { } found) return found;
            lock (ToolsGate)
            {
                var now = Environment.TickCount64;
                if (_tools is null && (_lookedUpAt is not { } last || now - last >= LookupRetryMs))
                {
                    _tools = FindTools();
                    _lookedUpAt = now;
                }
                return _tools;
            }
        }
    }

    /// <summary>The bound of the child's data segment (<c>RLIMIT_DATA</c>) for <paramref name="maxPixels"/>: 32 MiB +
    /// 4 bytes a pixel, in bytes. A primary image needs about 8 bytes a pixel, so one decodes up to about half the pixel
    /// limit (50 megapixels at the default) when it carries no thumbnail item.</summary>
    /// <param name="maxPixels">the pixel limit (width × height)</param>
    /// <returns>bytes</returns>
    public static long DataLimitBytes(long maxPixels) => BaseBytes + 4 * maxPixels;

    /// <summary>The bound of the PNG the child writes (<c>RLIMIT_FSIZE</c>) for <paramref name="maxPixels"/>: 16 MiB +
    /// 9 bytes a pixel (16-bit RGBA and deflate's stored blocks), in bytes.</summary>
    /// <param name="maxPixels">the pixel limit (width × height)</param>
    /// <returns>bytes</returns>
    public static long FileLimitBytes(long maxPixels) => (16L << 20) + 9 * maxPixels;

    /// <summary>
    /// Renders the HEIC, HEIF or AVIF image in <paramref name="source"/> to the PNG <paramref name="png"/>, upright,
    /// from its thumbnail item when that is large enough, else from its primary image (see the remarks). Blocking:
    /// waits for the child process, at most <see cref="TimeoutMs"/>.
    /// </summary>
    /// <param name="source">a HEIC, HEIF or AVIF file</param>
    /// <param name="format">its format, as its magic number says (<see cref="ImageFormats.Sniff"/>)</param>
    /// <param name="png">where the PNG goes; a partial one is deleted</param>
    /// <param name="maxPixels">the pixel limit (width × height) that the primary image's header must keep and that
    /// bounds the child's memory (<see cref="DataLimitBytes"/>)</param>
    /// <param name="side">the longest side in pixels the caller will scale to: a thumbnail item at least that large is
    /// rendered instead of the primary image</param>
    /// <exception cref="InvalidImageException"><c>unreadable image: …</c> when the header does not say the size, the
    /// program is missing or fails (its message follows), <c>image too large (…)</c> over the pixel limit, or
    /// <c>image too slow to decode</c> after <see cref="TimeoutMs"/></exception>
    /// <exception cref="IOException">reading the source failed, <c>prlimit</c> could not be started, or the machine refused
    /// the child a thread, a process or memory (<see cref="RefusedByTheMachine"/>): the next request tries again</exception>
    /// <exception cref="ArgumentException"><paramref name="format"/> is not of the HEIF family</exception>
    internal static void RenderPng(string source, ImageFormat format, string png, long maxPixels, int side)
    {
        if (!format.IsHeif()) throw new ArgumentException($"not a HEIF file: {format.Name()}", nameof(format));
        var header = ImageProbe.Read(source, format, maxPixels);
        if (FoundTools is not { } tools)
            throw new InvalidImageException($"unreadable image: no decoder for its format ({Program} not installed)");
        var (program, prlimit) = tools;
        // heif-thumbnailer renders the first thumbnail item whenever there is one, unless -p asks for the primary image.
        var thumbnailSide = HeifHeader.ReadThumbnailSide(source);
        var fromItem = thumbnailSide >= side;
        var size = fromItem ? thumbnailSide!.Value : Math.Max(header.Width, header.Height);
        var start = new ProcessStartInfo(prlimit)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        ScrubEnvironment(start.Environment);
        foreach (var argument in new[]
                 {
                     $"--data={DataLimitBytes(maxPixels)}", $"--fsize={FileLimitBytes(maxPixels)}", "--", program,
                     "-s", size.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 }.Concat(fromItem ? [] : ["-p"]).Concat([source, png]))
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var child = Start(start);
            var errors = FirstBytesAsync(child.StandardError.BaseStream);
            var output = FirstBytesAsync(child.StandardOutput.BaseStream);
            if (!child.WaitForExit(TimeoutMs))
            {
                child.Kill(entireProcessTree: true);
                child.WaitForExit();
                throw new InvalidImageException($"image too slow to decode (over {TimeoutMs / 1000} s)");
            }
            child.WaitForExit(); // the redirected streams' end
            var message = (errors.Result + " " + output.Result).Trim();
            if (child.ExitCode != 0 || !File.Exists(png))
            {
                var failure = $"{Program} exited {child.ExitCode} within {DataLimitBytes(maxPixels) >> 20} MiB" +
                    (message.Length > 0 ? $": {message}" : "");
                if (RefusedByTheMachine(child.ExitCode, message))
                    throw new IOException($"the renderer was refused a thread, a process or memory ({failure}); ask again");
                throw new InvalidImageException($"unreadable image: {failure}");
            }
        }
        catch
        {
            File.Delete(png);
            throw;
        }
    }

    /// <summary>
    /// Whether a failed child's exit says the machine refused it something rather than that the image does not decode:
    /// killed by SIGKILL (exit code 137, which this class sends only after <see cref="TimeoutMs"/>: the kernel's or a
    /// container's out-of-memory killer), or stopped by <c>EAGAIN</c>, "Resource temporarily unavailable" (the C locale's
    /// words, see <see cref="ScrubEnvironment"/>) — a thread or process the task limit of the node's control group
    /// refused (measured: <c>terminate called after throwing an instance of 'std::system_error' what(): Resource
    /// temporarily unavailable</c>, exit code 134, when libde265 could not start its decoder thread). Such a failure
    /// is not remembered against the image: the next request renders it again.
    /// </summary>
    /// <param name="exitCode">The child's exit code (128 + the signal's number when a signal ended it).</param>
    /// <param name="message">The start of what it wrote to standard error and output.</param>
    /// <returns>True when the image may well render on the next attempt.</returns>
    internal static bool RefusedByTheMachine(int exitCode, string message) =>
        exitCode == 128 + 9 || message.Contains("Resource temporarily unavailable", StringComparison.Ordinal);

    /// <summary>The variables a child keeps of the node's environment: where programs and libraries are found, and
    /// libheif's own settings. Not the rest, which holds the node's secrets (the admin token, the database URL with
    /// its password, the cluster certificate's password): a decoder that bytes from a client have taken over must not
    /// find them. Nor the node's locale: the child runs in <see cref="ChildLocale"/>.</summary>
    internal static readonly string[] KeptVariables = ["PATH", "LD_LIBRARY_PATH", "TMPDIR"];

    /// <summary>The child's <c>LC_ALL</c>: <c>C.UTF-8</c>, so that its messages are in the words
    /// <see cref="RefusedByTheMachine"/> reads, whatever the node's locale.</summary>
    internal const string ChildLocale = "C.UTF-8";

    /// <summary>Leaves in <paramref name="environment"/> (a child's, a copy of the node's) only
    /// <see cref="KeptVariables"/> and the variables whose names start with <c>LIBHEIF_</c>, and sets <c>LC_ALL</c> to
    /// <see cref="ChildLocale"/>.</summary>
    internal static void ScrubEnvironment(IDictionary<string, string?> environment)
    {
        foreach (var name in environment.Keys.ToList())
        {
            if (!KeptVariables.Contains(name, StringComparer.Ordinal) && !name.StartsWith("LIBHEIF_", StringComparison.Ordinal))
                environment.Remove(name);
        }
        environment["LC_ALL"] = ChildLocale;
    }

    /// <summary>Starts <paramref name="start"/>; a program that cannot be run is an <see cref="IOException"/> (the next
    /// request tries again), not a fault of the image.</summary>
    private static Process Start(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new IOException($"{start.FileName} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new IOException($"{start.FileName} could not start: {e.Message}", e);
        }
    }

    /// <summary>The first 1 KiB of what the child writes to <paramref name="stream"/>, as one line of text; the rest is
    /// read and dropped, so that the child never blocks on a full pipe.</summary>
    private static async Task<string> FirstBytesAsync(Stream stream)
    {
        var kept = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            kept.Write(buffer, 0, (int)Math.Min(read, Math.Max(0, 1024 - kept.Length)));
        }
        return Encoding.UTF8.GetString(kept.GetBuffer(), 0, (int)kept.Length).ReplaceLineEndings(" ").Trim();
    }

    /// <summary>Where <see cref="Program"/> and <c>prlimit</c> are.</summary>
    private sealed record Tools(string Program, string Prlimit);

    private static Tools? FindTools()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        string? Find(string name) => path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(file => File.Exists(file) && (OperatingSystem.IsWindows()
                || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0));
        return Find(Program) is { } program && Find("prlimit") is { } prlimit ? new Tools(program, prlimit) : null;
    }
}
