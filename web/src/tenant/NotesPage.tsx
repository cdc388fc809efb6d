import { useEffect, useState } from 'preact/hooks';
import { ErrorMessage, Field, formatDate, Notice, Page, TextArea, useSubmit } from '../shared/ui';
import { api, manages, Me, Member, Note } from './api';

const PAGE_SIZE = 20;
const MAX_TITLE = 200;
const MAX_CONTENT = 20_000;

/** A note's title and text, as the API limits them: the same for a new note and an edit. */
function NoteFields(props: {
  title: string;
  setTitle: (value: string) => void;
  content: string;
  setContent: (value: string) => void;
}) {
  return (
    <>
      <Field
        label="Title (optional)"
        maxLength={MAX_TITLE}
        value={props.title}
        onValue={props.setTitle}
      />
      <TextArea
        label="Text"
        required
        maxLength={MAX_CONTENT}
        value={props.content}
        onValue={props.setContent}
      />
    </>
  );
}

/** Your tenant's notes, newest first, a page at a time; write, change and delete as the API allows. */
export function NotesPage(props: { me: Me }) {
  const { me } = props;
  const [notes, setNotes] = useState<Note[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [authors, setAuthors] = useState<Map<string, string> | undefined>(undefined);
  const [title, setTitle] = useState('');
  const [content, setContent] = useState('');
  const [status, setStatus] = useState('');
  const unverified = sessionStorage.getItem('notes.unverified');

  const loadPage = async (after: string | null) => {
    const page = await api.call((client) =>
      client.GET('/api/v1/notes', {
        params: { query: { limit: PAGE_SIZE, ...(after ? { cursor: after } : {}) } },
      }),
    );
    setNotes((shown) => (after ? [...shown, ...page.items] : page.items));
    setCursor(page.nextCursor);
    setLoaded(true);
    if (after) setStatus(`${page.items.length} more notes loaded.`);
  };
  const first = useSubmit(() => loadPage(null));
  const more = useSubmit(() => loadPage(cursor));

  useEffect(() => {
    first.onSubmit(new Event('load'));
    // Authors by name: one page of members covers most tenants; others show their id.
    api
      .call((client) => client.GET('/api/v1/users', { params: { query: { limit: 100 } } }))
      .then((page) =>
        setAuthors(new Map(page.items.map((member: Member) => [member.id, member.username]))),
      )
      .catch(() => undefined);
  }, []);

  const create = useSubmit(async () => {
    const note = await api.call((client) =>
      client.POST('/api/v1/notes', { body: { content, ...(title.trim() ? { title } : {}) } }),
    );
    setNotes((shown) => [note, ...shown]);
    setTitle('');
    setContent('');
    setStatus('Note saved.');
  });

  // Until the members are in, an author is only a number: "former" is known once they are.
  const authorName = (id: string) =>
    id === me.user.id
      ? 'you'
      : (authors?.get(id) ?? (authors ? `a former member (#${id})` : `member #${id}`));

  return (
    <Page title="Notes">
      {unverified && (
        <Notice>
          Confirm your email: we mailed a token to {unverified}.{' '}
          <a href="#/verify">Enter it here</a>.
        </Notice>
      )}
      <p class="visually-hidden" role="status" aria-live="polite">
        {status}
      </p>
      <form class="card" onSubmit={create.onSubmit} aria-labelledby="new-note">
        <h2 id="new-note">New note</h2>
        <ErrorMessage error={create.error} />
        <NoteFields title={title} setTitle={setTitle} content={content} setContent={setContent} />
        <div class="actions">
          <button type="submit" disabled={create.busy}>
            Save note
          </button>
        </div>
      </form>
      <h2>All notes of {me.tenant.name}</h2>
      <ErrorMessage error={first.error} />
      {loaded && notes.length === 0 && <p>No notes yet: write the first one above.</p>}
      <ul class="plain" aria-label="Notes, newest first">
        {notes.map((note) => (
          <NoteItem
            key={note.id}
            note={note}
            author={authorName(note.authorId)}
            mayChange={note.authorId === me.user.id || manages(me)}
            onChanged={(changed) =>
              setNotes((shown) => shown.map((item) => (item.id === changed.id ? changed : item)))
            }
            onDeleted={() => {
              setNotes((shown) => shown.filter((item) => item.id !== note.id));
              setStatus('Note deleted.');
            }}
          />
        ))}
      </ul>
      <ErrorMessage error={more.error} />
      {cursor && (
        <button type="button" class="secondary" disabled={more.busy} onClick={more.onSubmit}>
          Load more notes
        </button>
      )}
    </Page>
  );
}

function NoteItem(props: {
  note: Note;
  author: string;
  mayChange: boolean;
  onChanged: (note: Note) => void;
  onDeleted: () => void;
}) {
  const { note } = props;
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [title, setTitle] = useState(note.title ?? '');
  const [content, setContent] = useState(note.content);
  const label = note.title || 'Untitled note';

  const save = useSubmit(async () => {
    const changed = await api.call((client) =>
      client.PATCH('/api/v1/notes/{id}', {
        params: { path: { id: note.id } },
        // An emptied title is cleared (null), as the API defines it.
        body: { content, title: title.trim() ? title : null },
      }),
    );
    props.onChanged(changed);
    setEditing(false);
  });
  const remove = useSubmit(async () => {
    await api.call((client) =>
      client.DELETE('/api/v1/notes/{id}', { params: { path: { id: note.id } } }),
    );
    props.onDeleted();
  });

  if (editing) {
    return (
      <li class="card note">
        <form onSubmit={save.onSubmit} aria-label={`Edit ${label}`} class="field">
          <ErrorMessage error={save.error} />
          <NoteFields title={title} setTitle={setTitle} content={content} setContent={setContent} />
          <div class="actions">
            <button type="submit" disabled={save.busy}>
              Save changes
            </button>
            <button type="button" class="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li class="card note">
      <article aria-label={label}>
        <h3>{label}</h3>
        <p class="content">{note.content}</p>
        <p class="meta">
          by {props.author} · {formatDate(note.createdAt)}
          {note.updatedAt !== note.createdAt && ` · changed ${formatDate(note.updatedAt)}`}
        </p>
        <ErrorMessage error={remove.error} />
        {props.mayChange && !confirming && (
          <div class="actions">
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setTitle(note.title ?? '');
                setContent(note.content);
                setEditing(true);
              }}
              aria-label={`Edit ${label}`}
            >
              Edit
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => setConfirming(true)}
              aria-label={`Delete ${label}`}
            >
              Delete
            </button>
          </div>
        )}
        {confirming && (
          <div class="actions" role="group" aria-label={`Delete ${label}?`}>
            <span>Delete this note for everyone?</span>
            <button type="button" class="danger" disabled={remove.busy} onClick={remove.onSubmit}>
              Yes, delete
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        )}
      </article>
    </li>
  );
}
