// TypeBox's validation errors in an administrator's words ("must be exactly 20 characters" rather than
// "Expected string length greater or equal to 20"). Only the schema is quoted, never the value.
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { Node } from './settings.ts';
import { didYouMean } from './suggest.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function literals(s: Node): string[] | undefined {
  const values = s.anyOf?.map((o) => o.const);
  return values?.every((v) => typeof v === 'string') ? values as string[] : undefined;
}

function lengthRule(s: Node): string {
  if (s.minLength !== undefined && s.minLength === s.maxLength) return `must be exactly ${plural(s.minLength, 'character')}`;
  const parts = [s.minLength !== undefined && `at least ${plural(s.minLength, 'character')}`, s.maxLength !== undefined && `at most ${plural(s.maxLength, 'character')}`];
  return `must be ${parts.filter(Boolean).join(' and ')}`;
}

/** The friendly text for one error; the caller adds the path and the variable names. */
export function describeError(e: ValueError): string {
  const s = e.schema as Node;
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = e.path.split('/').pop() ?? '';
      return `unknown key${didYouMean(key, Object.keys(s.properties ?? {}))}`;
    }
    case ValueErrorType.ObjectRequiredProperty: return 'is required';
    case ValueErrorType.Object: return 'must be a mapping of keys to values';
    case ValueErrorType.Array: return 'must be a list';
    case ValueErrorType.ArrayMinItems: return s.minItems === 1 ? 'must not be empty' : `must have at least ${plural(s.minItems ?? 0, 'item')}`;
    case ValueErrorType.ArrayUniqueItems: return 'must not list the same value twice';
    case ValueErrorType.String: return 'must be a string';
    case ValueErrorType.StringMinLength:
    case ValueErrorType.StringMaxLength: return lengthRule(s);
    case ValueErrorType.StringPattern: return s.hint ? `must be ${s.hint}` : `must match the pattern ${s.pattern}`;
    case ValueErrorType.Integer: return 'must be a whole number';
    case ValueErrorType.Number: return 'must be a number';
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum: return `must be at least ${s.minimum}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum: return `must be at most ${s.maximum}`;
    case ValueErrorType.Boolean: return 'must be true or false';
    case ValueErrorType.Union: {
      const allowed = literals(s);
      return allowed ? `must be one of: ${allowed.join(', ')}` : 'has a value of the wrong type';
    }
    // TypeBox's own wording quotes the schema (expected types, literals), never the value.
    default: return e.message;
  }
}
