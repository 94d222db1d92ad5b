using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace InferenceRouter;

/// <summary>
/// Hashes the parts of a request into a cache key. Parts are written in a fixed order, each length- or presence-prefixed and lists
/// count-prefixed, so no two different requests write the same bytes; numbers are written as little-endian binary, so keys are the
/// same in every process, culture and machine. Parts gather in a pooled 8 KB buffer hashed in one shot (the common, short request);
/// a longer request streams through an incremental hash in small chunks, so a long prompt is never copied whole.
/// </summary>
internal sealed class CacheKeyWriter : IDisposable
{
    private const int ChunkChars = 512;
    private const int BufferBytes = 8192;
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
    private int _length;
    private IncrementalHash? _hash;

    /// <summary>
    /// Gets whether any text written held a lone surrogate: UTF-8 would write it as U+FFFD, so the key would not tell it from other text.
    /// A key with this set must not be used (<see cref="Utf16Text"/>).
    /// </summary>
    public bool WroteMalformedText { get; private set; }

    /// <summary>Writes text that may be absent: absent and empty differ.</summary>
    public void Write(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
        }
        else
        {
            Write(value.AsSpan());
        }
    }

    public void Write(ReadOnlySpan<char> text)
    {
        WroteMalformedText |= !Utf16Text.IsWellFormed(text);
        WriteInt32(text.Length);
        while (!text.IsEmpty)
        {
            var chunk = text[..Math.Min(ChunkChars, text.Length)];
            if (chunk.Length < text.Length && char.IsHighSurrogate(chunk[^1]))
            {
                chunk = chunk[..^1]; // never split a surrogate pair across chunks
            }

            MakeRoom(Encoding.UTF8.GetMaxByteCount(chunk.Length));
            _length += Encoding.UTF8.GetBytes(chunk, _buffer.AsSpan(_length));
            text = text[chunk.Length..];
        }
    }

    public void Write(long? value)
    {
        MakeRoom(1 + sizeof(long));
        _buffer[_length++] = value is null ? (byte)0 : (byte)1;
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_length), value ?? 0);
        _length += sizeof(long);
    }

    public void Write(double? value) => Write(value is { } number ? BitConverter.DoubleToInt64Bits(number) : null);

    public void Write(bool? value) => Write(value is null ? null : value.Value ? 1L : 0L);

    /// <summary>Writes how many items of a list follow.</summary>
    public void WriteCount(int count) => WriteInt32(count);

    /// <summary>Writes raw bytes (a canonical serialisation).</summary>
    public void Write(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        if (value.Length > BufferBytes)
        {
            Flush();
            (_hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256)).AppendData(value);
            return;
        }

        MakeRoom(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    /// <summary>Returns the key: the first 128 bits of the SHA-256, in hex.</summary>
    public string Finish()
    {
        Span<byte> hash = stackalloc byte[32];
        if (_hash is null)
        {
            SHA256.HashData(_buffer.AsSpan(0, _length), hash);
        }
        else
        {
            Flush();
            _hash.GetHashAndReset(hash);
        }

        _length = 0;
        return Convert.ToHexString(hash[..16]);
    }

    public void Dispose()
    {
        _hash?.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
    }

    private void WriteInt32(int value)
    {
        MakeRoom(sizeof(int));
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_length), value);
        _length += sizeof(int);
    }

    private void MakeRoom(int bytes)
    {
        if (_length + bytes > BufferBytes)
        {
            Flush();
        }
    }

    /// <summary>Moves what the buffer holds into the incremental hash (long requests only).</summary>
    private void Flush()
    {
        if (_length > 0)
        {
            (_hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256)).AppendData(_buffer, 0, _length);
            _length = 0;
        }
    }
}
