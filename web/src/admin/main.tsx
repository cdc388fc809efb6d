import { render } from 'preact';
import '../shared/styles.css';
import { AdminApp } from './AdminApp';

render(<AdminApp />, document.getElementById('app') as HTMLElement);
