import { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './errors';

/** The part of the location after `#`, e.g. `/notes`; tokens never go here. */
export function useRoute(): string {
  const [route, setRoute] = useState(() => location.hash.slice(1) || '/');
  useEffect(() => {
    const update = () => setRoute(location.hash.slice(1) || '/');
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function navigate(route: string): void {
  location.hash = route;
}

/**
 * A page: its heading takes the focus when it opens, so keyboard and screen reader users land on
 * it. In a layout effect, so the focus is there before the page is painted: a plain effect runs
 * after paint (later still on a busy machine), and would pull the focus away from a field the user
 * had already reached and typed into.
 */
export function Page(props: { title: string; children: ComponentChildren; wide?: boolean }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => {
    document.title = `${props.title} — ${document.title.split(' — ').pop() ?? ''}`;
    heading.current?.focus();
  }, [props.title]);
  return (
    <main id="main" class={props.wide ? 'page wide' : 'page'}>
      <h1 tabIndex={-1} ref={heading}>
        {props.title}
      </h1>
      {props.children}
    </main>
  );
}

export function ErrorMessage(props: { error: unknown }) {
  if (!props.error) return null;
  return (
    <p class="message error" role="alert">
      {describeError(props.error)}
    </p>
  );
}

export function Notice(props: { children: ComponentChildren }) {
  return (
    <p class="message info" role="status">
      {props.children}
    </p>
  );
}

interface InputProps {
  label: string;
  hint?: string;
  value: string;
  onValue: (value: string) => void;
  type?: 'text' | 'email' | 'password' | 'search';
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  autoComplete?: string;
  readOnly?: boolean;
}

let fieldIds = 0;
function useFieldId(): string {
  const id = useRef<string | undefined>(undefined);
  id.current ??= `field-${(fieldIds += 1)}`;
  return id.current;
}

export function Field({ label, hint, value, onValue, type = 'text', ...rest }: InputProps) {
  const id = useFieldId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        // Preact types each input type apart, so tsc needs telling about a type chosen at run
        // time (typescript-eslint's view of the props disagrees with tsc's here).
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
        type={type as 'text'}
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
        aria-describedby={hint ? `${id}-hint` : undefined}
        {...rest}
      />
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

export function TextArea(props: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  required?: boolean;
  maxLength?: number;
}) {
  const id = useFieldId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        rows={4}
        value={props.value}
        required={props.required}
        maxLength={props.maxLength}
        onInput={(event) => props.onValue(event.currentTarget.value)}
      />
    </div>
  );
}

/**
 * Runs `action` for a form: keeps the page from reloading, disables the submit button while it
 * runs and keeps the error to show.
 */
export function useSubmit(action: () => Promise<void>): {
  busy: boolean;
  error: unknown;
  setError: (error: unknown) => void;
  onSubmit: (event: Event) => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const onSubmit = (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(undefined);
    action()
      .catch((caught: unknown) => setError(caught))
      .finally(() => setBusy(false));
  };
  return { busy, error, setError, onSubmit };
}

export function formatDate(value: string): string {
  return new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
