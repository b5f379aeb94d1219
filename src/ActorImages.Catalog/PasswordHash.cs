using System.Security.Cryptography;
using System.Text;

namespace ActorImages.Catalog;

/// <summary>
/// Tracker passwords as stored: a random 16-byte salt and SHA-256(salt ‖ UTF-8 password), both lowercase hex
/// (passwords are kept hashed, never in clear: docs/design.md, "Actors and services on every node"). A P3 password
/// only tells one peer's identities apart, so a fast salted hash is the proportionate choice; compare in constant
/// time all the same.
/// </summary>
public static class PasswordHash
{
    /// <summary>Salts and hashes a new password.</summary>
    /// <param name="password">The password as the peer sent it (any characters but a space, docs/protocols.md P3).</param>
    /// <returns>The salt (32 hex characters) and the hash (64 hex characters).</returns>
    public static (string Salt, string Hash) Create(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return (Convert.ToHexStringLower(salt), Compute(salt, password));
    }

    /// <summary>Whether <paramref name="password"/> is the one that gave <paramref name="hash"/>; constant time in the
    /// hash's contents.</summary>
    /// <param name="salt">The stored salt, hex.</param>
    /// <param name="hash">The stored hash, hex.</param>
    /// <param name="password">The password to check.</param>
    /// <returns>True when it matches.</returns>
    /// <exception cref="FormatException"><paramref name="salt"/> is not hex.</exception>
    public static bool Verify(string salt, string hash, string password)
    {
        var computed = Encoding.ASCII.GetBytes(Compute(Convert.FromHexString(salt), password));
        return CryptographicOperations.FixedTimeEquals(computed, Encoding.ASCII.GetBytes(hash.ToLowerInvariant()));
    }

    private static string Compute(byte[] salt, string password)
    {
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var input = new byte[salt.Length + passwordBytes.Length];
        salt.CopyTo(input, 0);
        passwordBytes.CopyTo(input, salt.Length);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }
}
