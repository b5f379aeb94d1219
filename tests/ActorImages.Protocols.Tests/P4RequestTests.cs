using System.Buffers;
using System.Text;
using Xunit;
using static ActorImages.Protocols.P4Request;

namespace ActorImages.Protocols.Tests;

public class P4RequestTests
{
    private const string Md5 = "0cc175b9c0f1b6a831c399e269772661";

    public static TheoryData<string, P4Request> Received => new()
    {
        { "GET " + Md5, new Get(Md5) },
        { "GET " + Md5.ToUpperInvariant(), new Get(Md5) },
        { "GET 0CC175b9C0F1b6a831c399e269772661", new Get(Md5) },
        { "GET " + Md5 + "\r\n", new Get(Md5) },
        { "GET " + Md5 + "trailing junk", new Get(Md5) },
        { "", new NeedMore() },
        { "G", new NeedMore() },
        { "GE", new NeedMore() },
        { "GET", new NeedMore() },
        { "GET ", new NeedMore() },
        { "GET " + Md5[..31], new NeedMore() },
        { "get " + Md5, new Invalid() },
        { "GET  " + Md5, new Invalid() },
        { " GET " + Md5, new Invalid() },
        { "GET\t" + Md5, new Invalid() },
        { "PUT " + Md5, new Invalid() },
        { "X", new Invalid() },
        { "GEX", new Invalid() },
        { "GET z", new Invalid() },
        { "GET " + Md5[..31] + "g", new Invalid() },
        { "GET " + Md5[..10] + "\r\n", new Invalid() },
        { "LST", new Invalid() },
        { "ERR File not found", new Invalid() },
    };

    [Theory]
    [MemberData(nameof(Received))]
    public void RequestIsGetPlus32HexOrNeedsMoreOrIsInvalid(string received, P4Request expected)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(received);
        Assert.Equal(expected, Parse(new ReadOnlySequence<byte>(bytes)));
        Assert.Equal(expected, Parse(TestData.Chunked(bytes, 3)));
        Assert.Equal(expected, Parse(bytes.AsSpan()));
    }

    [Fact]
    public void GetSplitAcrossSegmentsIsWholeOnlyWithTheLastByte()
    {
        byte[] request = Render(Md5);
        Assert.Equal(36, RequestBytes);
        for (int i = 0; i < request.Length - 1; i++)
        {
            Assert.Equal(new NeedMore(), Parse(TestData.Chunked(request[..(i + 1)], 1)));
        }
        Assert.Equal(new Get(Md5), Parse(TestData.Chunked(request, 1)));
    }

    [Fact]
    public void BinaryJunkIsInvalidAtOnce()
    {
        Assert.Equal(new Invalid(), Parse(new ReadOnlySequence<byte>([0xff, 0xd8])));
        Assert.Equal(new Invalid(), Parse(new ReadOnlySequence<byte>([.. "GET "u8, 0])));
        byte[] nonAsciiHex = Encoding.ASCII.GetBytes("GET " + Md5);
        nonAsciiHex[10] = (byte)('a' | 0x80); // 'a' but for its high bit
        Assert.Equal(new Invalid(), Parse(new ReadOnlySequence<byte>(nonAsciiHex)));
    }

    [Fact]
    public void ClientRendersGetInLowercaseAndRefusesWhatIsNoMd5()
    {
        Assert.Equal("GET " + Md5, Encoding.ASCII.GetString(Render(Md5.ToUpperInvariant())));
        Assert.Throws<ArgumentException>(() => Render("abc"));
        Assert.True(IsMd5(Md5));
        Assert.False(IsMd5(Md5 + "0"));
    }
}
