using System;
using System.Collections;
using System.Collections.Generic;

namespace LossDsl.Generators.Model;

/// <summary>An immutable array compared by value, so pipeline models that hold it cache correctly.</summary>
/// <typeparam name="T">An equatable element type.</typeparam>
internal sealed class ImmutableEquatableArray<T> : IEquatable<ImmutableEquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    public static readonly ImmutableEquatableArray<T> Empty = new(Array.Empty<T>());

    private readonly T[] _values;

    public ImmutableEquatableArray(IEnumerable<T> values) => _values = values is T[] a ? (T[])a.Clone() : new List<T>(values).ToArray();

    public int Count => _values.Length;

    public T this[int index] => _values[index];

    public bool Equals(ImmutableEquatableArray<T>? other)
    {
        if (other is null || other._values.Length != _values.Length)
        {
            return false;
        }

        for (int i = 0; i < _values.Length; i++)
        {
            if (!EqualityComparer<T>.Default.Equals(_values[i], other._values[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is ImmutableEquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        unchecked
        {
            int h = 17;
            foreach (var v in _values)
            {
                h = (h * 31) + (v is null ? 0 : EqualityComparer<T>.Default.GetHashCode(v));
            }

            return h;
        }
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _values.GetEnumerator();
}

internal static class ImmutableEquatableArray
{
    public static ImmutableEquatableArray<T> ToEquatable<T>(this IEnumerable<T> values)
        where T : IEquatable<T> => new(values);
}
