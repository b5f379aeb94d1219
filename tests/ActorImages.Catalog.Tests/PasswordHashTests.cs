namespace ActorImages.Catalog.Tests;

public sealed class PasswordHashTests
{
    [Theory]
    [InlineData("secret")]
    [InlineData("p'\"a;s,s\\w")]
    [InlineData("pässwörd")]
    public void APasswordVerifiesAgainstItsOwnSaltAndHashOnly(string password)
    {
        var (salt, hash) = PasswordHash.Create(password);

        Assert.Equal(32, salt.Length);
        Assert.Equal(64, hash.Length);
        Assert.True(PasswordHash.Verify(salt, hash, password));
        Assert.False(PasswordHash.Verify(salt, hash, password + "x"));
    }

    [Fact]
    public void TheSamePasswordGetsADifferentSaltEachTime()
    {
        Assert.NotEqual(PasswordHash.Create("pw"), PasswordHash.Create("pw"));
    }

    [Fact]
    public void TheHashIsSha256OfSaltThenUtf8Password()
    {
        // SHA-256 of the bytes 00 01 and "pw": the stored form other tools can check.
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([0, 1, (byte)'p', (byte)'w']));

        Assert.True(PasswordHash.Verify("0001", expected, "pw"));
    }
}
