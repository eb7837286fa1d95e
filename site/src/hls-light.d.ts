// hls.js ships types for its full build only; the light build has the same API (without the
// subtitle, alternate-audio and DRM controllers this site does not use).
declare module 'hls.js/light' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}
