using System.Buffers;
using System.Text;

namespace ActorImages.Protocols.Tests;

/// Real bytes for the codec tests: the photographs of testdata/images and helpers to cut them into segments.
internal static class TestData
{
    private static readonly string ImagesDir = FindImages();

    public static byte[] Image(string name) => File.ReadAllBytes(Path.Combine(ImagesDir, name));

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    public static string Md5(int n) => n.ToString("x32");

    /// A sequence of the given segments, as a Pipe hands over bytes that arrived in several reads.
    public static ReadOnlySequence<byte> Segmented(params byte[][] segments)
    {
        var nonEmpty = segments.Where(s => s.Length > 0).ToArray();
        if (nonEmpty.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        var first = new Segment(nonEmpty[0], 0);
        var last = first;
        foreach (var s in nonEmpty.Skip(1))
        {
            last = last.Append(s);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// The bytes cut into segments of `size` bytes.
    public static ReadOnlySequence<byte> Chunked(byte[] bytes, int size) =>
        Segmented(bytes.Chunk(size).ToArray());

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private static string FindImages()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "testdata", "images");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("testdata/images not found above " + AppContext.BaseDirectory);
    }
}
