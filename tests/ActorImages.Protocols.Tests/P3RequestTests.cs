using System.Text;
using Xunit;
using static ActorImages.Protocols.P3Request;

namespace ActorImages.Protocols.Tests;

public class P3RequestTests
{
    private const string A = "0cc175b9c0f1b6a831c399e269772661";
    private const string B = "92eb5ffee6ae2fec3ad71c777531578f";
    private const string Upper = "D41D8CD98F00B204E9800998ECF8427E";

    private static P3Image[] Images(params string[] md5AndName) =>
        md5AndName.Chunk(2).Select(p => new P3Image(p[0], p[1])).ToArray();

    private static P3Request ParseText(string datagram) => Parse(Encoding.UTF8.GetBytes(datagram));

    public static TheoryData<string, P3Request> Requests => new()
    {
        // seed-002 client: plain items, no terminator
        { $"REG s3nha 40123 {A},a.jpg;{B},b.png", new Reg("s3nha", 40123, Images(A, "a.jpg", B, "b.png")) },
        // seed-003 client: every item quoted, punctuation in the password, a space in a name
        { $"REG p'w;\"x 5000 '{A},a.jpg';'{B},b b.png'", new Reg("p'w;\"x", 5000, Images(A, "a.jpg", B, "b b.png")) },
        { "REG a,b\\c;d 5000 ''", new Reg("a,b\\c;d", 5000, []) },
        { "UPD pw 5000 ''", new Upd("pw", 5000, []) },
        { $"UPD pw 5000 {Upper},x.gif", new Upd("pw", 5000, Images(Upper.ToLowerInvariant(), "x.gif")) },
        { $"REG pw 5000 ;;{A},a.jpg;;", new Reg("pw", 5000, Images(A, "a.jpg")) },
        { "REG pw 5000 ;", new Reg("pw", 5000, []) },
        { $"REG pw 5000 {A},", new Reg("pw", 5000, Images(A, "")) },
        { $"REG pw 5000 {A},a,b.jpg", new Reg("pw", 5000, Images(A, "a,b.jpg")) },
        { $"REG pw 5000 '{A},it's.jpg'", new Reg("pw", 5000, Images(A, "it's.jpg")) },
        { $"REG pw 5000 {A},a.jpg;{A},again.jpg", new Reg("pw", 5000, Images(A, "a.jpg", A, "again.jpg")) },
        { "REG pw 05000 ''", new Reg("pw", 5000, []) },
        { "REG pw 1 ''", new Reg("pw", 1, []) },
        { "REG pw 65535 ''", new Reg("pw", 65535, []) },
        { $"REG pw 5000 {A},fotó 日本.jpg", new Reg("pw", 5000, Images(A, "fotó 日本.jpg")) },
        { $"REG pw 5000 {A}," + new string('n', 255), new Reg("pw", 5000, Images(A, new string('n', 255))) },
        { "  REG pw 5000 ''\r\n", new Reg("pw", 5000, []) },
        // seed-002 client with no image: the list after the last space is empty
        { "REG pw 5000 ", new Reg("pw", 5000, []) },
        { "UPD pw 5000 ", new Upd("pw", 5000, []) },
        { "REG pw 5000 \n", new Reg("pw", 5000, []) },
        { "END pw 5000", new End("pw", 5000) },
        { "END p'w;\"x 5000", new End("p'w;\"x", 5000) },
        { "LST", new Lst(null) },
        { "LST \n\t ", new Lst(null) },
        { "LST 5", new Lst(5) },
        { "LST 0", new Lst(0) },
        { "LST 2147483647", new Lst(int.MaxValue) },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void RequestsOfTheLegacyClientsParse(string datagram, P3Request expected) =>
        Assert.Equal(expected, ParseText(datagram));

    public static TheoryData<string> Malformed => new()
    {
        "", "   ", "reg pw 5000 ''", "Lst", "HELLO", "GET " + A, "REG", "REG pw 5000", "REG pw", "UPD pw 5000",
        "REG  5000 ''", // empty password: two spaces
        "REG pw  5000 ''", "REG pw abc ''", "REG pw 0 ''", "REG pw 70000 ''", "REG pw 65536 ''", "REG pw -1 ''",
        "REG pw +5000 ''", "REG pw 5000.0 ''", "REG pw 99999999999999999999999 ''",
        "REG pw 5000 " + A, // item without ','
        $"REG pw 5000 {A},a.jpg;junk",
        $"REG pw 5000 {A[1..]},a.jpg", // 31 characters
        $"REG pw 5000 {A}0,a.jpg", // 33 characters
        $"REG pw 5000 {new string('g', 32)},a.jpg",
        $"REG pw 5000 {new string('ａ', 32)},a.jpg", // full-width letters
        "REG pw 5000 ,a.jpg",
        $"REG pw 5000 '{A},a.jpg", // unbalanced quote
        $"REG pw 5000 ' {A},a.jpg'",
        "REG pw 5000 '",
        $"REG pw 5000 ''{A},a.jpg''", // only one pair of quotes is stripped
        "END pw", "END pw 5000 ''", "END pw abc", "END  5000",
        "LST x", "LST -1", "LST 1.5", "LST 5 6", "LST  5", "LST 2147483648",
        "\uFEFFLST",
        // What no legacy client sends: names a peer could not save inside its folder.
        $"REG pw 5000 {A},../../etc/passwd",
        $"REG pw 5000 {A},dir\\a.jpg",
        $"REG pw 5000 {A},a\u0000.jpg",
        $"REG pw 5000 {A},a\tb.jpg",
        $"REG pw 5000 {A},a\u007f.jpg",
        $"REG pw 5000 {A},a\u0085.jpg",
        $"UPD pw 5000 {A},a\nb.jpg",
        $"REG pw 5000 {A}," + new string('n', 256),
        $"REG pw 5000 {A}," + string.Concat(Enumerable.Repeat("é", 128)), // 256 bytes
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedRequestsAreInvalid(string datagram) => Assert.Equal(new Invalid(), ParseText(datagram));

    public static TheoryData<byte[]> NotUtf8 => new()
    {
        new byte[] { 0xff, 0xfe },
        Concat("LST "u8, 0xff),
        Concat(Encoding.ASCII.GetBytes($"REG pw 5000 {A},"), 0xe9, (byte)'.', (byte)'j', (byte)'p', (byte)'g'), // Latin-1 'é'
        Concat("LST"u8, 0xc3),
        new byte[] { (byte)'L', 0xc0, 0x80 }, // overlong NUL
        new byte[] { 0xed, 0xa0, 0x80 }, // encoded surrogate
    };

    private static byte[] Concat(ReadOnlySpan<byte> head, params byte[] tail) => [.. head, .. tail];

    [Theory]
    [MemberData(nameof(NotUtf8))]
    public void BytesThatAreNotUtf8AreInvalid(byte[] datagram) => Assert.Equal(new Invalid(), Parse(datagram));

    [Fact]
    public void SixtyFourKibOfJunkIsInvalid()
    {
        var junk = new byte[65_507];
        new Random(13377).NextBytes(junk);
        Assert.Equal(new Invalid(), Parse(junk));
        Assert.Equal(new Invalid(), ParseText("REG " + string.Concat(Enumerable.Repeat("x;,' ", 13_000))));
    }

    [Fact]
    public void PasswordsNeverAppearInToString()
    {
        Assert.DoesNotContain("hunter2", ParseText($"REG hunter2 5000 {A},a.jpg").ToString());
        Assert.DoesNotContain("hunter2", ParseText("UPD hunter2 5000 ''").ToString());
        Assert.DoesNotContain("hunter2", ParseText("END hunter2 5000").ToString());
    }

    public static TheoryData<P3Request, string> ClientDatagrams => new()
    {
        { new Reg("p'w;\"x", 40123, Images(A, "a.jpg", B, "b b.png")), $"REG p'w;\"x 40123 {A},a.jpg;{B},b b.png" },
        { new Reg("pw", 5000, []), "REG pw 5000 ''" },
        { new Upd("pw", 5000, Images(A, "fotó.jpg")), $"UPD pw 5000 {A},fotó.jpg" },
        { new Lst(null), "LST" },
        { new Lst(40), "LST 40" },
        { new End("pw", 5000), "END pw 5000" },
    };

    [Theory]
    [MemberData(nameof(ClientDatagrams))]
    public void ClientDatagramsAreWhatTheServerParses(P3Request request, string datagram)
    {
        Assert.Equal(datagram, Encoding.UTF8.GetString(request.ToDatagram()));
        Assert.Equal(request, Parse(request.ToDatagram()));
    }

    public static TheoryData<string, bool> Replies => new()
    {
        { "OK 3_REGISTERED_IMAGES", true },
        { "OK CLIENT_FINISHED", true },
        { "ERR INVALID_MESSAGE_FORMAT", true },
        { "ERR NO_IMAGES_AVAILABLE", true },
        { $"{A},a.jpg,10.0.0.1:6000", true },
        { $"{Upper},a.jpg,10.0.0.1:6000;{B},b,h:1", true },
        { "LST", false },
        { "REG pw 5000 ''", false },
        { "END pw 5000", false },
        { "OK", false },
        { "OKAY", false },
        { A, false },
        { $"{A};", false },
        { "", false },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void RepliesAreRecognisedSoTheTrackerNeverAnswersThem(string datagram, bool isReply) =>
        Assert.Equal(isReply, IsReply(Encoding.UTF8.GetBytes(datagram)));
}
