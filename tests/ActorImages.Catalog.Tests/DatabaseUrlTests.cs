using Npgsql;

namespace ActorImages.Catalog.Tests;

public sealed class DatabaseUrlTests
{
    [Fact]
    public void TheUrlBinPostgresPrintsBecomesAConnectionString()
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("postgresql://actorimages@127.0.0.1:5432/actorimages"));

        Assert.Equal(("127.0.0.1", 5432, "actorimages", "actorimages"), (builder.Host, builder.Port, builder.Username, builder.Database));
        Assert.Null(builder.Password);
    }

    [Fact]
    public void PasswordsAndNamesArePercentDecodedAndLibpqParametersMapped()
    {
        var builder = new NpgsqlConnectionStringBuilder(
            DatabaseUrl.ToConnectionString("postgres://u%40x:p%3As%2Fw@db.example:6543/my%20db?sslmode=verify-full&application_name=node-1"));

        Assert.Equal(("db.example", 6543, "u@x", "p:s/w", "my db"), (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database));
        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("node-1", builder.ApplicationName);
    }

    [Fact]
    public void AnNpgsqlConnectionStringPassesThrough()
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseUrl.ToConnectionString("Host=h;Port=1;Username=u;Database=d"));

        Assert.Equal(("h", 1, "u", "d"), (builder.Host, builder.Port, builder.Username, builder.Database));
    }

    [Theory]
    [InlineData("postgresql://")]
    [InlineData("postgresql://h/db?nonsense=1")]
    [InlineData("Hots=h")]
    public void AMalformedSettingIsRefusedAtOnce(string value)
    {
        Assert.ThrowsAny<ArgumentException>(() => DatabaseUrl.ToConnectionString(value));
    }
}
