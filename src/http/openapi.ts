/** Security schemes of the OpenAPI document: routes name them, configure-app declares them. */
export const BEARER_SCHEME = 'bearer';
export const OPERATOR_SCHEME = 'operator';
