using System.Buffers;
using Xunit;

namespace ActorImages.Protocols.Tests;

public class P1FrameTests
{
    private const long Max = P1Frame.DefaultMaxImageBytes;
    private static readonly byte[] Jpeg = TestData.Image("rocket.jpg"); // 112,525 bytes, about a camera's frame
    private static readonly byte[] Png = TestData.Image("chelsea.png");
    private static readonly byte[] Tiff = TestData.Image("multipage_rgb.tif"); // 5,278 bytes: split everywhere

    /// Decodes frames back to back the way a Pipe-driven server does: header, check, then body bytes.
    private static List<byte[]> DecodeAll(ReadOnlySequence<byte> stream, long max = Max)
    {
        var frames = new List<byte[]>();
        while (P1Frame.TryReadHeader(ref stream, out uint length))
        {
            Assert.True(P1Frame.IsAcceptableLength(length, max, out string? reason), reason);
            Assert.True(stream.Length >= length, "truncated body");
            frames.Add(stream.Slice(0, length).ToArray());
            stream = stream.Slice(length);
        }
        Assert.Equal(0, stream.Length);
        return frames;
    }

    private static byte[] Frame(byte[] body) => [.. P1Frame.Header((uint)body.Length), .. body];

    [Fact]
    public void OneFrameIsHeaderThenBody()
    {
        var frames = DecodeAll(new ReadOnlySequence<byte>(Frame(Jpeg)));
        Assert.Equal(Jpeg, Assert.Single(frames));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(1000)]
    [InlineData(1 << 20)]
    public void FramesBackToBackSurviveAnySegmentation(int segmentSize)
    {
        byte[] stream = [.. Frame(Jpeg), .. Frame(Png), .. Frame([42])];
        var frames = DecodeAll(TestData.Chunked(stream, segmentSize));
        Assert.Equal(3, frames.Count);
        Assert.Equal(Jpeg, frames[0]);
        Assert.Equal(Png, frames[1]);
        Assert.Equal([42], frames[2]);
    }

    [Fact]
    public void HeaderSplitAtEveryPositionGivesTheSameFrame()
    {
        byte[] stream = Frame(Tiff);
        for (int split = 1; split < stream.Length; split++)
        {
            var frames = DecodeAll(TestData.Segmented(stream[..split], stream[split..]));
            Assert.Equal(Tiff, frames[0]);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void FewerThanFourBytesLeaveTheBufferUntouched(int available)
    {
        var buffer = new ReadOnlySequence<byte>(Frame(Png)[..available]);
        var before = buffer;
        Assert.False(P1Frame.TryReadHeader(ref buffer, out _));
        Assert.Equal(before, buffer);
    }

    [Fact]
    public void HeaderReadAdvancesToTheBody()
    {
        var buffer = TestData.Segmented([0, 0], [0x01, 0x02, 0xAA]);
        Assert.True(P1Frame.TryReadHeader(ref buffer, out uint length));
        Assert.Equal(0x0102u, length);
        Assert.Equal([0xAA], buffer.ToArray());
    }

    public static TheoryData<string, byte[], long, uint> RefusedHeaders => new()
    {
        { "zero length", P1Frame.Header(0), Max, 0 },
        { "one above the limit", P1Frame.Header((uint)Max + 1), Max, (uint)Max + 1 },
        { "2^32 - 1, read unsigned", [0xFF, 0xFF, 0xFF, 0xFF], Max, uint.MaxValue },
        { "2^31, sign bit set", [0x80, 0, 0, 0], Max, 0x8000_0000 },
        { "small limit", P1Frame.Header(101), 100, 101 },
    };

    [Theory]
    [MemberData(nameof(RefusedHeaders))]
    public void ZeroOrOversizeLengthIsRefusedFromTheHeaderAlone(string rule, byte[] header, long max, uint expected)
    {
        // No body byte ever comes: the refusal cannot depend on receiving N bytes.
        var buffer = new ReadOnlySequence<byte>(header);
        Assert.True(P1Frame.TryReadHeader(ref buffer, out uint length), rule);
        Assert.Equal(expected, length);
        Assert.False(P1Frame.IsAcceptableLength(length, max, out string? reason));
        Assert.Contains(expected.ToString(), reason);
    }

    [Fact]
    public void LengthEqualToTheLimitIsAccepted()
    {
        Assert.True(P1Frame.IsAcceptableLength(uint.MaxValue, uint.MaxValue, out var reason));
        Assert.Null(reason);
        Assert.True(P1Frame.IsAcceptableLength((uint)Max, Max, out _));
        Assert.True(P1Frame.IsAcceptableLength(1, Max, out _));
    }

    [Fact]
    public void WholeFrameBeforeARefusedHeaderIsReadFirst()
    {
        // A frame received whole is stored even if a bad header follows it in the same read (docs/protocols.md, P1).
        var buffer = new ReadOnlySequence<byte>([.. Frame(Png), .. P1Frame.Header(0)]);
        Assert.True(P1Frame.TryReadHeader(ref buffer, out uint first));
        Assert.True(P1Frame.IsAcceptableLength(first, Max, out _));
        Assert.Equal(Png, buffer.Slice(0, first).ToArray());
        buffer = buffer.Slice(first);
        Assert.True(P1Frame.TryReadHeader(ref buffer, out uint second));
        Assert.False(P1Frame.IsAcceptableLength(second, Max, out _));
    }

    [Fact]
    public void WriteHeaderIsBigEndianAndNeedsFourBytes()
    {
        Assert.Equal([0x00, 0x01, 0xB7, 0x8D], P1Frame.Header(112_525));
        Assert.Equal([0xFF, 0xFF, 0xFF, 0xFF], P1Frame.Header(uint.MaxValue));
        Assert.Throws<ArgumentException>(() => P1Frame.WriteHeader(new byte[3], 1));
    }
}
